import { describe, expect, it } from 'vitest'
import { getUserValue, setUserValue } from '../../../../src/store/redis/user-value.js'
import { newId, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/user-value', () => {
  it('round-trips a value, deletes it with null, and tells a dead actor from a stored value', async () => {
    const now = Date.now()
    const actor = { id: newId(), uid: 'uv' }
    await h.put(actor, now)
    const live = { id: actor.id, now }
    expect(await h.run(getUserValue, 'uv', 'totp', live)).toBeNull()
    await h.run(setUserValue, 'uv', 'totp', 'sealed', live)
    expect(await h.run(getUserValue, 'uv', 'totp', live)).toBe('sealed')
    // a stored value that looks like the refusal is still a value
    await h.run(setUserValue, 'uv', 'odd', '-3', undefined)
    expect(await h.run(getUserValue, 'uv', 'odd', live)).toBe('-3')
    const dead = { id: newId(), now }
    await expect(h.run(getUserValue, 'uv', 'totp', dead)).rejects.toMatchObject({
      code: 'ERR_SESSION_REQUIRED',
    })
    await h.run(setUserValue, 'uv', 'totp', null, live)
    expect(await h.run(getUserValue, 'uv', 'totp', live)).toBeNull()
  })
})
