import { describe, expect, it } from 'vitest'
import { sessionKeyName, userIndexKeyName } from '../../../../src/store/redis/layout.js'
import { restore } from '../../../../src/store/redis/restore.js'
import { PREFIX, newId, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/restore', () => {
  it('writes an absent session with its TTL and index entry; keeps an existing one unless replace', async () => {
    const uid = `rs-${newId().slice(0, 8)}`
    const id = newId()
    const key = sessionKeyName(PREFIX, { id, uid })
    // more fields than one HSET chunk takes (200 arguments)
    const fields: Record<string, string> = { $e: '1900000000000', $a: '1900000000000' }
    for (let i = 0; i < 150; i++) fields[`f${i}`] = String(i)
    const input = { key, id, uid, pttl: 60_000, score: fields.$e!, fields, replace: false }
    expect(await h.run(restore, input)).toBe(true)
    expect(await h.raw.hgetall(key)).toEqual(fields)
    expect(await h.raw.pttl(key)).toBeGreaterThan(59_000)
    expect(await h.raw.zscore(userIndexKeyName(PREFIX, uid), id)).toBe('1900000000000')
    expect(await h.raw.pttl(userIndexKeyName(PREFIX, uid))).toBeGreaterThan(59_000)
    // kept: the live copy wins over the backup
    await h.raw.hset(key, 'f0', 'newer')
    expect(await h.run(restore, input)).toBe(false)
    expect(await h.raw.hget(key, 'f0')).toBe('newer')
    // replaced whole: no field of the live copy survives
    await h.raw.hset(key, 'extra', 'x')
    expect(await h.run(restore, { ...input, replace: true })).toBe(true)
    expect(await h.raw.hgetall(key)).toEqual(fields)
  })

  it('an anonymous session has no index', async () => {
    const id = newId()
    const key = sessionKeyName(PREFIX, { id })
    const fields = { $e: '1900000000000', $a: '1900000000000', a: '1' }
    const input = { key, id, uid: undefined, pttl: 5_000, score: fields.$e, fields, replace: false }
    expect(await h.run(restore, input)).toBe(true)
    expect(await h.raw.hget(key, 'a')).toBe('1')
  })
})
