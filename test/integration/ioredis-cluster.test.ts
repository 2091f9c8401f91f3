/**
 * The ioredis store on a real Redis Cluster: per-user slot placement, atomic "log out
 * everywhere" (L5), no expired session ever listed (L7), and the cross-slot replace path.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ioredisStore, type IoredisStore } from '../../src/store/ioredis.js'
import { DEFAULT_PREFIX, sessionKeyName, userIndexKeyName } from '../../src/store/redis/layout.js'
import { SCRIPTS } from '../../src/store/redis/scripts.js'
import { keySlot } from '../../src/store/redis/slot.js'
import type { StoredSession } from '../../src/store/types.js'
import { startCluster, stopAll, type RedisCluster, type RedisServer } from '../helpers/redis.js'

let seq = 0
const newId = () => `${Date.now().toString(36)}c${(seq++).toString(36)}`.padEnd(43, 'B')
const IDLE = 10 * 60_000
const sessionAt = (now: number, uid?: string, expiresAt = now + IDLE): StoredSession => ({
  fields: { a: '1' },
  meta: {
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    absoluteExpiresAt: Math.floor((now + 6 * IDLE) / 1000) * 1000,
    uid,
    client: 'test',
  },
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Commands received by `servers` while `fn` runs (MONITOR), without those run inside scripts. */
async function onTheWire(
  servers: RedisServer[],
  fn: () => Promise<unknown>,
): Promise<{ port: number; command: string }[]> {
  const seen: { port: number; command: string }[] = []
  const conns = await Promise.all(
    servers.map(async (s) => {
      const base = new Redis({ port: s.port, lazyConnect: true })
      const mon = await base.monitor()
      mon.on('monitor', (_t: string, args: string[], source: string) => {
        const name = String(args[0]).toLowerCase()
        if (source !== 'lua' && !['cluster', 'info', 'echo', 'ping'].includes(name))
          seen.push({ port: s.port, command: name })
      })
      return { base, mon }
    }),
  )
  await sleep(50)
  seen.length = 0
  await fn()
  await sleep(100)
  for (const c of conns) {
    c.mon.disconnect()
    c.base.disconnect()
  }
  return seen
}

describe('ioredis store on Redis Cluster', () => {
  let cluster: RedisCluster
  let store: IoredisStore
  let raw: Redis
  beforeAll(async () => {
    cluster = await startCluster()
    store = ioredisStore({ cluster: cluster.startupNodes })
    raw = new Redis({ port: cluster.masters[0]!.port })
  })
  afterAll(async () => {
    raw.disconnect()
    await store.close()
    await stopAll()
  })

  it("puts a user's sessions and index in one slot (CLUSTER KEYSLOT)", async () => {
    const now = Date.now()
    const uid = 'slot{user}:1'
    const keys = [0, 1, 2, 3, 4].map(() => ({ id: newId(), uid }))
    for (const key of keys) await store.create(key, sessionAt(now, uid), { now })
    const names = [
      userIndexKeyName(DEFAULT_PREFIX, uid),
      ...keys.map((k) => sessionKeyName(DEFAULT_PREFIX, k)),
    ]
    const slots = await Promise.all(names.map((n) => raw.call('CLUSTER', 'KEYSLOT', n)))
    expect(new Set(slots).size).toBe(1)
    expect(slots[0]).toBe(keySlot(names[0]!))
    // anonymous sessions spread over the slots (and keySlot agrees with the server)
    const anon = [0, 1, 2, 3, 4, 5].map(() => sessionKeyName(DEFAULT_PREFIX, { id: newId() + 'z' }))
    for (const n of anon) expect(await raw.call('CLUSTER', 'KEYSLOT', n)).toBe(keySlot(n))
  })

  it('logs a user out everywhere atomically: a concurrent list sees all or nothing (L5)', async () => {
    for (let round = 0; round < 5; round++) {
      const now = Date.now()
      const uid = `everywhere-${round}`
      const keys = Array.from({ length: 20 }, () => ({ id: newId(), uid }))
      await Promise.all(keys.map((key) => store.create(key, sessionAt(now, uid), { now })))
      const other = { id: newId(), uid: `${uid}-other` }
      await store.create(other, sessionAt(now, other.uid), { now })
      const [count, ...lists] = await Promise.all([
        store.destroyUser(uid, now),
        ...Array.from({ length: 10 }, () => store.listUser(uid, now)),
      ])
      expect(count).toBe(20)
      for (const list of lists as unknown[][]) expect([0, 20]).toContain(list.length)
      for (const key of keys)
        expect(await store.load(key, { now, extendIfBefore: 0, extendTo: 0 })).toBeNull()
      expect(await store.listUser(uid, now)).toEqual([])
      expect(await store.listUser(other.uid, now)).toHaveLength(1)
    }
  })

  it('never lists an expired session, whether the deadline passed or the hash expired in Redis (L7)', async () => {
    const now = Date.now()
    const uid = 'expiring'
    const short = { id: newId(), uid }
    const long = { id: newId(), uid }
    const vanished = { id: newId(), uid }
    await store.create(short, sessionAt(now, uid, now + 300), { now })
    await store.create(long, sessionAt(now, uid), { now })
    await store.create(vanished, sessionAt(now, uid), { now })
    const all = (await store.listUser(uid, now)).map((s) => s.id)
    expect(all[0]).toBe(short.id) // soonest expiry first
    expect(new Set(all)).toEqual(new Set([short.id, long.id, vanished.id]))
    // the deadline passed by the caller's clock, the hash still exists
    expect((await store.listUser(uid, now + 300)).map((s) => s.id)).not.toContain(short.id)
    // the hash expired in Redis while its index score is still in the future
    const node = new Redis({ port: await ownerPort(sessionKeyName(DEFAULT_PREFIX, vanished)) })
    await node.pexpire(sessionKeyName(DEFAULT_PREFIX, vanished), 50)
    await sleep(400) // the real PEXPIRE of `short` (300 ms) has passed too
    node.disconnect()
    const list = await store.listUser(uid, Date.now())
    expect(list.map((s) => s.id)).toEqual([long.id])
    expect(list[0]).toMatchObject({ createdAt: now, client: 'test', expiresAt: now + IDLE })
  })

  it('drops an anonymous session replaced at login with a second call in its own slot', async () => {
    const now = Date.now()
    const anon = { id: newId() }
    const user = { id: newId(), uid: 'login' }
    // find an anonymous id whose slot differs from the user's (almost always the first)
    expect(keySlot(sessionKeyName(DEFAULT_PREFIX, anon))).not.toBe(
      keySlot(sessionKeyName(DEFAULT_PREFIX, user)),
    )
    await store.create(anon, sessionAt(now), { now })
    // warm every master's script cache so that no NOSCRIPT retry is counted
    for (const m of cluster.masters) {
      for (const script of Object.values(SCRIPTS)) await m.cli('SCRIPT', 'LOAD', script.source)
    }
    const wire = await onTheWire(cluster.masters, () =>
      store.create(user, sessionAt(now, 'login'), { now, replace: anon }),
    )
    expect(wire.map((w) => w.command)).toEqual(['evalsha', 'evalsha'])
    expect(await store.load(anon, { now, extendIfBefore: 0, extendTo: 0 })).toBeNull()
    // a replace within the same user is one script
    const next = { id: newId(), uid: 'login' }
    const same = await onTheWire(cluster.masters, () =>
      store.create(next, sessionAt(now, 'login'), { now, replace: user }),
    )
    expect(same.map((w) => w.command)).toEqual(['evalsha'])
    expect((await store.listUser('login', now)).map((s) => s.id)).toEqual([next.id])
  })

  it('sends WAIT to the master that ran the script', async () => {
    const durable = ioredisStore({
      cluster: cluster.startupNodes,
      durability: { replicas: 1, timeoutMs: 2000 },
    })
    const now = Date.now()
    for (const uid of ['w-a', 'w-b', 'w-c', 'w-d']) {
      await durable.create({ id: newId(), uid }, sessionAt(now, uid), { now })
      const wire = await onTheWire(cluster.masters, () => durable.destroyUser(uid, now))
      expect(wire.map((w) => w.command)).toEqual(['evalsha', 'wait'])
      expect(wire[0]!.port).toBe(wire[1]!.port)
      expect(wire[0]!.port).toBe(await ownerPort(userIndexKeyName(DEFAULT_PREFIX, uid)))
    }
    await durable.close()
  })

  async function ownerPort(key: string): Promise<number> {
    const slot = keySlot(key)
    const ranges = (await raw.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)!
    return Number(range[2][1])
  }
})
