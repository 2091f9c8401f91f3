import { describe, expect, it } from 'vitest'
import { load } from '../../../../src/store/redis/load.js'
import { updateUser } from '../../../../src/store/redis/update-user.js'
import { newId, noExtend, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/update-user', () => {
  it('sets roles and revokes methods on every live session but the one left out', async () => {
    const now = Date.now()
    const [a, b] = [0, 1].map(() => ({ id: newId(), uid: 'up' }))
    for (const k of [a!, b!]) await h.put(k, now, {}, { roles: ['user'], amr: ['pwd', 'otp'] })
    const change = { roles: ['admin'], revokeMethods: ['otp'], except: a!.id }
    expect(await h.run(updateUser, 'up', change, now, { id: a!.id, now })).toBe(1)
    const meta = async (k: typeof a) =>
      ((await h.run(load, k!, noExtend(now))) as { session: { meta: object } }).session.meta
    expect(await meta(a)).toMatchObject({ roles: ['user'] })
    expect(await meta(b)).toMatchObject({ roles: ['admin'], revokedMethods: ['otp'] })
    await expect(
      h.run(updateUser, 'up', { roles: [] }, now, { id: newId(), now }),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_REQUIRED' })
  })
})
