import { describe, expect, it } from 'vitest'
import { destroyUser } from '../../../../src/store/redis/destroy-user.js'
import { PREFIX, newId, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/destroy-user', () => {
  it('deletes every session but the one kept, counting the live ones', async () => {
    const now = Date.now()
    const keys = [0, 1, 2].map(() => ({ id: newId(), uid: 'du' }))
    for (const k of keys) await h.put(k, now)
    const keep = keys[0]!.id
    expect(await h.run(destroyUser, 'du', now, { actor: { id: keep, now }, except: keep })).toBe(2)
    expect(await h.raw.zrange(`${PREFIX}{du}`, '0', '-1')).toEqual([keep])
    await expect(
      h.run(destroyUser, 'du', now, { actor: { id: keys[1]!.id, now } }),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_REQUIRED' })
    expect(await h.run(destroyUser, 'du', now, {})).toBe(1)
    expect(await h.raw.exists(`${PREFIX}{du}`)).toBe(0)
  })
})
