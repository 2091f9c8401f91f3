import { describe, expect, it } from 'vitest'
import {
  afterDestroy,
  destroyedKey,
  principalAfter,
  regenerating,
  type Intent,
} from '../../../src/session/intent.js'
import type { SessionMeta } from '../../../src/store/types.js'

const key = { id: 'a'.repeat(43), uid: 'alice' }
const stored: SessionMeta = {
  createdAt: 1,
  lastSeenAt: 1,
  expiresAt: 10,
  absoluteExpiresAt: 20,
  uid: 'alice',
  roles: ['user'],
  amr: ['pwd'],
  authTime: 1,
}

describe('intents', () => {
  it('destroy is a boundary: a regeneration asked before it is dropped, the ended key kept', () => {
    const regen = regenerating({ kind: 'keep' })
    expect(regen).toEqual({ kind: 'regenerate', regen: { stepUps: [] }, destroyFirst: undefined })
    const ended = afterDestroy(regen, key)
    expect(ended).toEqual({ kind: 'destroy', key })
    // a second destroy (no current key any more) keeps the first one's key
    expect(afterDestroy(ended, undefined)).toEqual({ kind: 'destroy', key })
    const again: Intent = regenerating(ended)
    expect(destroyedKey(again)).toEqual(key)
    expect(afterDestroy({ kind: 'keep' }, undefined)).toEqual({ kind: 'keep' })
  })

  it('one merge rule: explicit roles win; step-ups hold only for the final user', () => {
    const now = 99
    expect(principalAfter({ stepUps: [{ method: 'otp', uid: 'alice' }] }, stored, now)).toEqual({
      uid: 'alice',
      roles: ['user'],
      amr: ['pwd', 'otp'],
      authTime: now,
    })
    const other = {
      authenticate: { uid: 'bob', roles: ['viewer'], amr: ['pwd'] },
      stepUps: [{ method: 'otp', uid: 'alice' }],
    }
    expect(principalAfter(other, stored, now)).toEqual({
      uid: 'bob',
      roles: ['viewer'],
      amr: ['pwd'],
      authTime: now,
    })
    const roles = { ...other, roles: ['admin'], userRoles: { uid: 'bob', roles: ['editor'] } }
    expect(principalAfter(roles, stored, now).roles).toEqual(['admin'])
    const userRoles = { ...other, userRoles: { uid: 'bob', roles: ['editor'] } }
    expect(principalAfter(userRoles, stored, now).roles).toEqual(['editor'])
    // roles another user's updateUserRoles set do not follow an authenticate() of someone else
    const stale = { ...other, userRoles: { uid: 'alice', roles: ['editor'] } }
    expect(principalAfter(stale, stored, now).roles).toEqual(['viewer'])
    // a plain regeneration keeps the stored principal and its auth time
    expect(principalAfter({ stepUps: [] }, stored, now)).toEqual({
      uid: 'alice',
      roles: ['user'],
      amr: ['pwd'],
      authTime: 1,
    })
    // a step-up made while anonymous vouches for nobody
    expect(
      principalAfter({ stepUps: [{ method: 'otp', uid: undefined }] }, undefined, now),
    ).toEqual({
      uid: undefined,
      roles: undefined,
      amr: undefined,
      authTime: undefined,
    })
  })
})
