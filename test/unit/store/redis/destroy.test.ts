import { describe, expect, it } from 'vitest'
import { destroy } from '../../../../src/store/redis/destroy.js'
import { PREFIX, newId, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/destroy', () => {
  it('lays out the acting session after the index, with its clock', () => {
    const key = { id: 'd'.repeat(43), uid: 'u' }
    expect(destroy.layout(PREFIX, key, { id: 'a'.repeat(43), now: 9 })).toEqual({
      keys: [`${PREFIX}{u}:${key.id}`, `${PREFIX}{u}`, `${PREFIX}{u}:${'a'.repeat(43)}`],
      args: [key.id, '9'],
    })
  })

  it('deletes the hash and its index member; refuses for an acting session that is gone', async () => {
    const now = Date.now()
    const victim = { id: newId(), uid: 'de' }
    const actor = { id: newId(), uid: 'de' }
    await h.put(victim, now)
    await expect(h.run(destroy, victim, { id: newId(), now })).rejects.toMatchObject({
      code: 'ERR_SESSION_REQUIRED',
    })
    expect(await h.raw.exists(`${PREFIX}{de}:${victim.id}`)).toBe(1)
    await h.put(actor, now)
    await h.run(destroy, victim, { id: actor.id, now })
    expect(await h.raw.exists(`${PREFIX}{de}:${victim.id}`)).toBe(0)
    expect(await h.raw.zrange(`${PREFIX}{de}`, '0', '-1')).toEqual([actor.id])
    await h.run(destroy, victim, undefined) // idempotent
  })
})
