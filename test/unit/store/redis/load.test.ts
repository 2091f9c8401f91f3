import { describe, expect, it } from 'vitest'
import { load } from '../../../../src/store/redis/load.js'
import { IDLE, PREFIX, newId, noExtend, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/load', () => {
  it('lays out the session key, its index, and the increment after the id', () => {
    const key = { id: 'i'.repeat(43), uid: 'u' }
    const o = { ...noExtend(5), increment: { field: 'n', by: 2 }, maxDataBytes: 100 }
    expect(load.layout(PREFIX, key, o)).toEqual({
      keys: [`${PREFIX}{u}:${key.id}`, `${PREFIX}{u}`],
      args: ['5', '0', '0', '0', key.id, 'n', '2', '100'],
    })
  })

  it('decodes a live session, nil for a missing one, moved for an alias, poisoned as an error', async () => {
    const now = Date.now()
    const key = { id: newId() }
    await h.put(key, now, { a: '1' })
    const got = await h.run(load, key, noExtend(now))
    expect(got).toMatchObject({ extended: false, session: { fields: { a: '1' } } })
    expect(await h.run(load, { id: newId() }, noExtend(now))).toBeNull()
    const alias = { id: newId() }
    await h.raw.hset(PREFIX + alias.id, '$mv', key.id, '$e', String(now + 1000))
    expect(await h.run(load, alias, noExtend(now))).toEqual({ movedTo: key.id })
    const bad = { id: newId() }
    await h.raw.set(PREFIX + bad.id, 'not a hash')
    await expect(h.run(load, bad, noExtend(now))).rejects.toThrow(/not a valid session/)
  })

  it('extends when due and increments in the same call; refuses past maxDataBytes', async () => {
    const now = Date.now()
    const key = { id: newId() }
    await h.put(key, now)
    const o = { now, extendIfBefore: now + IDLE, extendTo: now + 2 * IDLE }
    const got = await h.run(load, key, { ...o, increment: { field: 'n', by: 3 } })
    expect(got).toMatchObject({ extended: true, session: { fields: { n: '3' } } })
    expect(await h.raw.pttl(PREFIX + key.id)).toBeGreaterThan(IDLE)
    await expect(
      h.run(load, key, {
        ...noExtend(now),
        increment: { field: 'longer', by: 1 },
        maxDataBytes: 5,
      }),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_LIMIT' })
    expect(await h.raw.hget(PREFIX + key.id, 'longer')).toBeNull()
  })

  it('counts data bytes exactly at the limit: names plus values, flash included, metadata not', async () => {
    const now = Date.now()
    const key = { id: newId() }
    // data: 'a' + 'xx' (3) + '$f:m' + 'y' (5) + 'n' + '9' (2) = 10 bytes; the metadata is not data
    await h.put(key, now, { a: 'xx', '$f:m': 'y', n: '9' })
    const o = { ...noExtend(now), maxDataBytes: 11 }
    const up = (by: number, maxDataBytes = 11) =>
      h.run(load, key, { ...o, increment: { field: 'n', by }, maxDataBytes })
    // '9' -> '10': 11 bytes, at the limit: allowed
    expect(await up(1)).toMatchObject({ session: { fields: { n: '10' } } })
    // '10' -> '100': 12 bytes: refused, nothing changed
    await expect(up(90)).rejects.toMatchObject({ code: 'ERR_SESSION_LIMIT' })
    expect(await h.raw.hget(PREFIX + key.id, 'n')).toBe('10')
    // a new field counts its name and value: 'k' + '1' = 2 more
    const k = (maxDataBytes: number) =>
      h.run(load, key, { ...o, increment: { field: 'k', by: 1 }, maxDataBytes })
    await expect(k(12)).rejects.toMatchObject({ code: 'ERR_SESSION_LIMIT' })
    expect(await k(13)).toMatchObject({ session: { fields: { k: '1' } } })
    // a write that shrinks a session already over a lowered limit goes through
    expect(await up(-5, 5)).toMatchObject({ session: { fields: { n: '5' } } })
  })
})
