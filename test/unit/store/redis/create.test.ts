import { describe, expect, it } from 'vitest'
import { create } from '../../../../src/store/redis/create.js'
import { PREFIX, newId, redisHarness, session } from './harness.js'

const h = redisHarness()

describe('store/redis/create', () => {
  it('lays out the replaced keys after the new ones, with their count as the replace mode', () => {
    const key = { id: 'n'.repeat(43), uid: 'u' }
    const old = { id: 'o'.repeat(43) }
    const { keys, args } = create.layout(PREFIX, key, session(1), { now: 1 }, old)
    expect(keys).toEqual([`${PREFIX}{u}:${key.id}`, `${PREFIX}{u}`, PREFIX + old.id])
    expect(args.slice(0, 6)).toEqual(['1', key.id, '1', '0', '1', old.id])
  })

  it('writes with a TTL and the index, replaces in the same step, refuses an existing key', async () => {
    const now = Date.now()
    const old = { id: newId(), uid: 'cr' }
    await h.put(old, now)
    const key = { id: newId(), uid: 'cr' }
    expect(await h.run(create, key, session(now, { uid: 'cr' }), { now }, old)).toEqual([])
    expect(await h.raw.exists(`${PREFIX}{cr}:${old.id}`)).toBe(0)
    expect(await h.raw.zrange(`${PREFIX}{cr}`, '0', '-1')).toEqual([key.id])
    expect(await h.raw.pttl(`${PREFIX}{cr}:${key.id}`)).toBeGreaterThan(0)
    await expect(
      h.run(create, key, session(now, { uid: 'cr' }), { now }, undefined),
    ).rejects.toThrow(/collision/)
  })

  it('evicts the soonest-expiring other sessions beyond the limit', async () => {
    const now = Date.now()
    const first = { id: newId(), uid: 'ev' }
    await h.put(first, now, {}, { expiresAt: now + 1000 })
    const second = { id: newId(), uid: 'ev' }
    const evicted = await h.run(
      create,
      second,
      session(now, { uid: 'ev' }),
      { now, maxSessionsPerUser: 1 },
      undefined,
    )
    expect(evicted).toEqual([first.id])
  })

  it('prunes the index once: an expired member neither counts nor stays, and the index expires with its last member', async () => {
    const now = Date.now()
    const gone = { id: newId(), uid: 'pr' }
    await h.put(gone, now - 10_000, {}, { expiresAt: now - 1 })
    const key = { id: newId(), uid: 'pr' }
    await h.raw.call('CONFIG', 'RESETSTAT')
    const evicted = await h.run(
      create,
      key,
      session(now, { uid: 'pr', expiresAt: now + 60_000 }),
      { now, maxSessionsPerUser: 1 },
      undefined,
    )
    expect(evicted).toEqual([])
    expect(await h.raw.zrange(`${PREFIX}{pr}`, '0', '-1')).toEqual([key.id])
    const ttl = await h.raw.pttl(`${PREFIX}{pr}`)
    expect(ttl).toBeGreaterThan(55_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    const stats = String(await h.raw.call('INFO', 'commandstats'))
    expect(/cmdstat_zremrangebyscore:calls=(\d+)/.exec(stats)?.[1]).toBe('1')
  })
})
