/**
 * The plain read (one HGETALL, no script) against the guarantees of the load script, with two
 * stores on one real redis-server as two app instances: instance A has seen the session's
 * deadline (so it reads plainly), instance B (or Redis itself) changes the entry underneath.
 */
import { describe, expect, it } from 'vitest'
import { PoisonedSessionError } from '../../../../src/errors.js'
import { plainReader } from '../../../../src/store/redis/fast-read.js'
import { ioredisStore } from '../../../../src/store/ioredis.js'
import { onTheWire } from '../../../helpers/monitor.js'
import { startRedis } from '../../../helpers/redis.js'
import { Redis } from 'ioredis'
import { IDLE, PREFIX, newId, redisHarness, session } from './harness.js'

redisHarness() // stops the servers this file starts
const noExtend = (now: number) => ({ now, extendIfBefore: 0, extendTo: 0 })

async function twoInstances() {
  const server = await startRedis()
  const a = ioredisStore({ url: server.url, prefix: PREFIX, plainReads: true })
  const b = ioredisStore({ url: server.url, prefix: PREFIX, plainReads: true })
  const raw = new Redis({ port: server.port, host: server.host })
  // load the scripts once, so that no NOSCRIPT retry shows on the wire below
  const warm = { id: newId(), uid: 'warm' }
  const now = Date.now()
  await a.create(warm, session(now, { uid: 'warm' }), { now })
  await a.load(warm, { now, extendIfBefore: now + IDLE, extendTo: now + 2 * IDLE })
  const next = { id: newId(), uid: 'warm' }
  await a.rotate(warm, next, { set: {}, del: [] }, { ...noExtend(now), graceMs: 1 })
  return {
    server,
    a,
    b,
    raw,
    close: async () => {
      raw.disconnect()
      await Promise.all([a.close?.(), b.close?.()])
    },
  }
}

describe('store/redis/fast-read', () => {
  it('reads plainly only what the script would serve as live', async () => {
    const { server, a, b, raw, close } = await twoInstances()
    try {
      const now = Date.now()
      const plain = async (key: { id: string; uid?: string }) => {
        let result: unknown
        const wire = await onTheWire(
          [server],
          async () => (result = await a.load(key, noExtend(now))),
        )
        return { result, wire: wire.map((c) => c.split(' ')[0]) }
      }
      const seen = async (uid?: string) => {
        const key = { id: newId(), uid }
        await a.create(key, session(now, { uid }, { n: '1' }), { now })
        expect(await plain(key)).toMatchObject({ wire: ['hgetall'], result: { extended: false } })
        return key
      }

      // destroyed by another instance: not served
      const destroyed = await seen()
      await b.destroy(destroyed)
      expect(await plain(destroyed)).toEqual({ result: null, wire: ['hgetall'] })

      // the user logged out everywhere through another instance: not served
      const everywhere = await seen('alice')
      await b.destroyUser('alice', now)
      expect((await plain(everywhere)).result).toBeNull()

      // roles changed elsewhere: the plain read sees them
      const promoted = await seen('bob')
      await b.updateUser('bob', { roles: ['admin'] }, now)
      expect((await plain(promoted)).result).toMatchObject({
        session: { meta: { roles: ['admin'] } },
      })

      // rotated elsewhere: the old id answers "moved" (an alias), as the script does
      const rotated = await seen('carol')
      const to = { id: newId(), uid: 'carol' }
      await b.rotate(rotated, to, { set: {}, del: [] }, { ...noExtend(now), graceMs: 30_000 })
      expect((await plain(rotated)).result).toEqual({ movedTo: to.id })

      // overwritten by hand with another type: poisoned, a typed error
      const poisoned = await seen()
      await raw.del(PREFIX + poisoned.id)
      await raw.set(PREFIX + poisoned.id, 'not a hash')
      await expect(a.load(poisoned, noExtend(now))).rejects.toBeInstanceOf(PoisonedSessionError)
      const malformed = await seen()
      await raw.hset(PREFIX + malformed.id, '$e', 'soon')
      await expect(a.load(malformed, noExtend(now))).rejects.toBeInstanceOf(PoisonedSessionError)

      // found expired against the caller's clock: the script decides and deletes it, so it
      // stays gone for a caller whose clock reads earlier
      const expired = await seen()
      const late = { id: expired.id }
      const wire = await onTheWire([server], () => a.load(late, noExtend(now + IDLE)))
      expect(wire.map((c) => c.split(' ')[0])).toEqual(['hgetall', 'evalsha'])
      expect(await a.load(expired, noExtend(now))).toBeNull()
      expect(await raw.exists(PREFIX + expired.id)).toBe(0)
    } finally {
      await close()
    }
  })

  it('never skips an extension that is due: the deadline and TTL still move together', async () => {
    const { server, a, b, raw, close } = await twoInstances()
    try {
      const now = Date.now()
      const key = { id: newId() }
      await a.create(key, session(now), { now })
      const due = { now: now + IDLE / 2, extendIfBefore: now + IDLE, extendTo: now + 2 * IDLE }
      const wire = await onTheWire([server], () => a.load(key, due))
      expect(wire.map((c) => c.split(' ')[0])).toEqual(['evalsha'])
      expect(await raw.hget(PREFIX + key.id, '$e')).toBe(String(now + 2 * IDLE))
      expect(await raw.pttl(PREFIX + key.id)).toBeGreaterThan(IDLE)
      // a session this instance never saw goes through the script too
      const other = { id: newId() }
      await b.create(other, session(now), { now })
      const cold = await onTheWire([server], () =>
        a.load(other, { now, extendIfBefore: 0, extendTo: 0 }),
      )
      expect(cold.map((c) => c.split(' ')[0])).toEqual(['evalsha'])
    } finally {
      await close()
    }
  })

  it('answers "script" at once, not as a promise, when no plain read is possible', async () => {
    const reads: string[] = []
    const reader = plainReader(async (key) => {
      reads.push(key)
      return []
    }, PREFIX)
    const now = Date.now()
    const key = { id: newId() }
    const far = { now, extendIfBefore: now, extendTo: now + IDLE }
    // never seen, an increment, a consume, a due deadline: the script, with no await
    expect(reader.read(key, far)).toBe('script')
    reader.saw(key.id, now + IDLE)
    expect(reader.read(key, { ...far, increment: { field: 'n', by: 1 } })).toBe('script')
    expect(reader.read(key, { ...far, consume: true })).toBe('script')
    expect(reader.read(key, { ...far, extendIfBefore: now + IDLE })).toBe('script')
    expect(reads).toEqual([])
    // a deadline seen far enough ahead: one HGETALL (here an empty hash: gone, and forgotten)
    const plainly = reader.read(key, far)
    expect(plainly).toBeInstanceOf(Promise)
    expect(await plainly).toBeNull()
    expect(reads).toEqual([PREFIX + key.id])
    expect(reader.read(key, far)).toBe('script')
  })
})
