/**
 * The ioredis store against real redis-server processes: the conformance suite on standalone,
 * Sentinel and Cluster, round trips counted on the wire with MONITOR, concurrency, script-cache
 * flushes, a stopped server, and poisoned entries (SECURITY.md attack 10, L4).
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PoisonedSessionError } from '../../src/store/redis/codec.js'
import { StoreError } from '../../src/errors.js'
import { ioredisStore, type IoredisStore } from '../../src/store/ioredis.js'
import { DEFAULT_PREFIX, sessionKeyName, userIndexKeyName } from '../../src/store/redis/layout.js'
import type { LoadResult, SessionKey, StoredSession } from '../../src/store/types.js'
import { testStore } from '../../src/testing/index.js'
import { onTheWire } from '../helpers/monitor.js'
import {
  startCluster,
  startRedis,
  startSentinelGroup,
  stopAll,
  type RedisServer,
} from '../helpers/redis.js'

afterAll(stopAll)

testStore('ioredis standalone', async () => {
  const server = await startRedis()
  const store = ioredisStore({ url: server.url })
  return { store, cleanup: () => store.close() }
})

testStore('ioredis sentinel', async () => {
  const group = await startSentinelGroup()
  const store = ioredisStore({ sentinels: group.sentinelAddrs, name: group.name })
  return {
    store,
    cleanup: async () => {
      await store.close()
      await group.stop()
    },
  }
})

testStore('ioredis cluster', async () => {
  const cluster = await startCluster()
  const store = ioredisStore({ cluster: cluster.startupNodes })
  return {
    store,
    cleanup: async () => {
      await store.close()
      await cluster.stop()
    },
  }
})

let seq = 0
const newId = () => `${Date.now().toString(36)}x${(seq++).toString(36)}`.padEnd(43, 'A')
const IDLE = 10 * 60_000
const sessionAt = (
  now: number,
  uid?: string,
  fields: Record<string, string> = {},
): StoredSession => ({
  fields,
  meta: {
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + IDLE,
    absoluteExpiresAt: Math.floor((now + 6 * IDLE) / 1000) * 1000,
    uid,
  },
})
const noExtend = (now = Date.now()) => ({ now, extendIfBefore: 0, extendTo: 0 })

describe('ioredis store on a standalone server', () => {
  let server: RedisServer
  let store: IoredisStore
  let raw: Redis
  beforeAll(async () => {
    server = await startRedis()
    store = ioredisStore({ url: server.url, commandTimeoutMs: 500 })
    raw = new Redis({ port: server.port })
  })
  afterAll(async () => {
    raw.disconnect()
    await store.close()
  })

  it('uses one round trip per call (MONITOR, script commands excluded)', async () => {
    const now = Date.now()
    const uid = `wire-${newId().slice(0, 8)}`
    const key = { id: newId(), uid }
    // warm the script cache: the first call of each script after a flush costs a NOSCRIPT retry
    const warm = { id: newId(), uid }
    await store.create(warm, sessionAt(now, uid), { now, replace: { id: newId() } })
    // (a load that extends: a read that cannot extend skips the load script, see below)
    await store.load(warm, { now, extendIfBefore: now + 2 * IDLE, extendTo: now + 2 * IDLE })
    await store.commit(warm, { set: {}, del: [] }, noExtend(now))
    await store.destroyUser(`warm-${uid}`, now)
    await store.listUser(`warm-${uid}`, now)
    await store.destroy(warm)

    expect(
      await onTheWire([server], () =>
        store.create(key, sessionAt(now, uid, { a: '1' }), { now, maxSessionsPerUser: 3 }),
      ),
    ).toEqual([expect.stringMatching(/^evalsha /)])
    // a read that cannot extend: the load script by default (cheaper for the app); with
    // plainReads (this store saw the deadline) one HGETALL, no script
    expect(await onTheWire([server], () => store.load(key, noExtend(now + 1)))).toEqual([
      expect.stringMatching(/^evalsha /),
    ])
    const plain = ioredisStore({ url: server.url, commandTimeoutMs: 500, plainReads: true })
    try {
      const seen = { id: newId(), uid }
      await plain.create(seen, sessionAt(now, uid), { now })
      expect(await onTheWire([server], () => plain.load(seen, noExtend(now + 1)))).toEqual([
        expect.stringMatching(/^hgetall /),
      ])
    } finally {
      await plain.close()
    }
    const due = now + IDLE - 1000
    expect(
      await onTheWire([server], () =>
        store.load(key, { now: due, extendIfBefore: due + IDLE, extendTo: due + IDLE }),
      ),
    ).toEqual([expect.stringMatching(/^evalsha /)])
    const set = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`f${i}`, JSON.stringify('v'.repeat(i))]),
    )
    expect(
      await onTheWire([server], () =>
        store.commit(
          key,
          { set, del: ['a', 'zz'], meta: { roles: ['admin'], authTime: now } },
          { now: now + 2, extendIfBefore: now + 2 + IDLE * 2, extendTo: now + 3 * IDLE },
        ),
      ),
    ).toHaveLength(1)
    const anon = { id: newId() }
    await store.create(anon, sessionAt(now), { now })
    // on one server every key is "in the same slot": the replaced entry goes in the same script
    const next = { id: newId(), uid }
    expect(
      await onTheWire([server], () =>
        store.create(next, sessionAt(now, uid), { now, replace: anon }),
      ),
    ).toHaveLength(1)
    expect(await store.load(anon, noExtend(now))).toBeNull()
    expect(await onTheWire([server], () => store.listUser(uid, now))).toHaveLength(1)
    expect(await onTheWire([server], () => store.destroyUser(uid, now))).toEqual([
      expect.stringMatching(/^evalsha /),
    ])
    expect(await onTheWire([server], () => store.load(key, noExtend(now)))).toHaveLength(1)
  })

  it('keeps every field of 200 concurrent commits to one session (no lost update)', async () => {
    const now = Date.now()
    const key = { id: newId(), uid: 'many' }
    await store.create(key, sessionAt(now, 'many'), { now })
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.commit(key, { set: { [`f${i}`]: String(i) }, del: [] }, noExtend(now + i)),
      ),
    )
    expect(results.every((r) => r !== null)).toBe(true)
    const got = (await store.load(key, noExtend(now + 500))) as LoadResult
    expect(Object.keys(got!.session.fields)).toHaveLength(200)
    for (let i = 0; i < 200; i++) expect(got!.session.fields[`f${i}`]).toBe(String(i))
  })

  it('never resurrects a session when a commit races a destroy (L4)', async () => {
    const now = Date.now()
    for (let round = 0; round < 200; round++) {
      const key = round % 2 ? { id: newId() } : { id: newId(), uid: 'racer' }
      await store.create(key, sessionAt(now, key.uid, { a: '1' }), { now })
      const order = [
        () =>
          store.commit(
            key,
            { set: { b: '2' }, del: ['a'] },
            { now, extendIfBefore: now + 2 * IDLE, extendTo: now + 2 * IDLE },
          ),
        () => store.destroy(key),
      ]
      if (round % 3 === 0) order.reverse()
      await Promise.all(order.map((f) => f()))
      expect(await raw.exists(sessionKeyName(DEFAULT_PREFIX, key))).toBe(0)
      expect(await store.load(key, noExtend(now))).toBeNull()
    }
    expect(await raw.zscore(userIndexKeyName(DEFAULT_PREFIX, 'racer'), newId())).toBeNull()
    expect(await store.listUser('racer', now)).toEqual([])
  })

  it('keeps working through SCRIPT FLUSH (EVALSHA falls back to EVAL on NOSCRIPT)', async () => {
    const now = Date.now()
    const key = { id: newId(), uid: 'flush' }
    await store.create(key, sessionAt(now, 'flush'), { now })
    let flushes = 0
    const flusher = (async () => {
      for (; flushes < 20; flushes++) {
        await raw.script('FLUSH')
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
    let calls = 0
    const worker = async (w: number) => {
      for (let i = 0; i < 50; i++, calls++) {
        expect(
          await store.commit(key, { set: { [`w${w}`]: String(i) }, del: [] }, noExtend(now)),
        ).not.toBeNull()
        expect(await store.load(key, noExtend(now))).not.toBeNull()
        expect(await store.listUser('flush', now)).toHaveLength(1)
      }
    }
    await Promise.all([flusher, ...[0, 1, 2, 3].map(worker)])
    expect(flushes).toBe(20)
    expect(calls).toBe(200)
    await raw.script('FLUSH')
    // a load that extends runs the script: EVALSHA, then EVAL after NOSCRIPT
    const extend = { now, extendIfBefore: now + 2 * IDLE, extendTo: now + 2 * IDLE }
    const wire = await onTheWire([server], () => store.load(key, extend))
    expect(wire.map((c) => c.split(' ')[0])).toEqual(['evalsha', 'eval'])
  })

  it('turns poisoned entries into a typed error, never a crash (attack 10)', async () => {
    const now = Date.now()
    const poison = async (edit: (name: string) => Promise<unknown>, uid?: string) => {
      const key: SessionKey = { id: newId(), uid }
      await store.create(key, sessionAt(now, uid, { a: '1' }), { now })
      await edit(sessionKeyName(DEFAULT_PREFIX, key))
      return key
    }
    const cases = [
      await poison((k) => raw.hset(k, '$e', 'garbage')),
      await poison((k) => raw.hset(k, '$e', '1e15')),
      await poison((k) => raw.hdel(k, '$a')),
      await poison((k) => raw.hset(k, '$r', '{not json')),
      await poison((k) => raw.hset(k, '$c', '12.5'), 'poisoned-user'),
    ]
    for (const key of cases) {
      await expect(store.load(key, noExtend(now))).rejects.toBeInstanceOf(PoisonedSessionError)
    }
    // commit refuses what the script can see is not ours (bad deadlines), and writes nothing
    for (const key of cases.slice(0, 3)) {
      await expect(
        store.commit(key, { set: { b: '2' }, del: [] }, noExtend(now)),
      ).rejects.toBeInstanceOf(PoisonedSessionError)
      expect(await raw.hget(sessionKeyName(DEFAULT_PREFIX, key), 'b')).toBeNull()
    }
    // a key of another type under the same name: WRONGTYPE never reaches the caller
    const wrong = { id: newId(), uid: 'poisoned-user' }
    await raw.set(sessionKeyName(DEFAULT_PREFIX, wrong), 'not a hash')
    await raw.zadd(userIndexKeyName(DEFAULT_PREFIX, 'poisoned-user'), now + IDLE, wrong.id)
    await expect(store.load(wrong, noExtend(now))).rejects.toBeInstanceOf(PoisonedSessionError)
    await expect(
      store.commit(wrong, { set: { b: '1' }, del: [] }, noExtend(now)),
    ).rejects.toBeInstanceOf(PoisonedSessionError)
    await expect(
      store.create(wrong, sessionAt(now, 'poisoned-user'), { now }),
    ).rejects.toBeInstanceOf(StoreError)
    // the user's list skips both poisoned entries, and logging out everywhere clears them (the
    // entry with a bad `$c` still has valid deadlines, so the script counts it as live)
    expect(await store.listUser('poisoned-user', now)).toEqual([])
    expect(await store.destroyUser('poisoned-user', now)).toBe(1)
    expect(
      await raw.exists(
        sessionKeyName(DEFAULT_PREFIX, wrong),
        sessionKeyName(DEFAULT_PREFIX, cases[4]!),
      ),
    ).toBe(0)
    await store.destroy(cases[0]!)
    expect(await raw.exists(sessionKeyName(DEFAULT_PREFIX, cases[0]!))).toBe(0)
    // a poisoned user index is a store error, not a crash
    await raw.set(userIndexKeyName(DEFAULT_PREFIX, 'bad-index'), 'x')
    await expect(store.listUser('bad-index', now)).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE',
    })
  })

  it('rejects reserved field names before they reach Redis', async () => {
    const key = { id: newId() }
    await store.create(key, sessionAt(Date.now()), { now: Date.now() })
    await expect(
      store.commit(key, { set: { $e: '1' }, del: [] }, noExtend()),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_INPUT' })
    await expect(store.commit(key, { set: {}, del: ['$a'] }, noExtend())).rejects.toMatchObject({
      code: 'ERR_SESSION_INPUT',
    })
    expect(
      await store.commit(key, { set: { '$f:notice': '"hi"' }, del: [] }, noExtend()),
    ).not.toBeNull()
  })

  it('ping reports latency and the replication role', async () => {
    const health = await store.ping()
    expect(health.latencyMs).toBeGreaterThanOrEqual(0)
    expect(health.details).toMatchObject({ mode: 'standalone', role: 'master', replicas: 0 })
  })
})

describe('ioredis store while Redis is down', () => {
  it('rejects every call with a StoreError within the timeout, then recovers by itself', async () => {
    const server = await startRedis()
    const store = ioredisStore({ url: server.url, commandTimeoutMs: 500, logger: () => {} })
    const now = Date.now()
    const key = { id: newId(), uid: 'down' }
    await store.create(key, sessionAt(now, 'down'), { now })
    const calls: [string, () => Promise<unknown>][] = [
      ['load', () => store.load(key, noExtend(now))],
      ['create', () => store.create({ id: newId(), uid: 'down' }, sessionAt(now, 'down'), { now })],
      ['commit', () => store.commit(key, { set: { a: '1' }, del: [] }, noExtend(now))],
      ['destroy', () => store.destroy(key)],
      ['destroyUser', () => store.destroyUser('down', now)],
      ['listUser', () => store.listUser('down', now)],
      ['ping', () => store.ping()],
    ]
    // a frozen server (SIGSTOP): every call times out within the bound, all at once
    process.kill(server.pid()!, 'SIGSTOP')
    try {
      const started = performance.now()
      const errors = await Promise.all(
        calls.map(([, call]) =>
          call().then(
            () => null,
            (e: unknown) => e,
          ),
        ),
      )
      expect(performance.now() - started).toBeLessThan(800)
      for (const error of errors) expect(error).toBeInstanceOf(StoreError)
      expect(
        errors.filter((e) => (e as StoreError).code === 'ERR_SESSION_STORE_TIMEOUT').length,
      ).toBeGreaterThan(0)
    } finally {
      process.kill(server.pid()!, 'SIGCONT')
    }
    // a stopped server: every call fails fast
    await server.stop()
    for (let round = 0; round < 3; round++) {
      for (const [name, call] of calls) {
        const started = performance.now()
        const error = await call().then(
          () => null,
          (e: unknown) => e,
        )
        const took = performance.now() - started
        expect(error, name).toBeInstanceOf(StoreError)
        expect(took, name).toBeLessThan(800)
        expect(String((error as Error).message)).not.toMatch(key.id)
      }
    }
    await server.start()
    const until = Date.now() + 10_000
    while (
      Date.now() < until &&
      !(await store.ping().then(
        () => true,
        () => false,
      ))
    )
      await new Promise((r) => setTimeout(r, 50))
    const again = { id: newId(), uid: 'down' }
    await store.create(again, sessionAt(Date.now(), 'down'), { now: Date.now() })
    expect(await store.load(again, noExtend())).not.toBeNull()
    await store.close()
  })
})

describe('ioredis store durability (WAIT)', () => {
  it('waits for replicas after create, destroy and destroyUser, and fails visibly when too few answer', async () => {
    const master = await startRedis({
      args: ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'],
    })
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
    const until = Date.now() + 10_000
    while (
      Date.now() < until &&
      !(await replica.cli('INFO', 'replication')).includes('master_link_status:up')
    ) {
      await new Promise((r) => setTimeout(r, 50))
    }
    const ok = ioredisStore({ url: master.url, durability: { replicas: 1, timeoutMs: 1000 } })
    const now = Date.now()
    const key = { id: newId(), uid: 'durable' }
    await ok.create({ id: newId() }, sessionAt(now), { now }) // warms the script cache
    // EVALSHA and WAIT are pipelined: two commands, one round trip
    const wire = await onTheWire([master], () => ok.create(key, sessionAt(now, 'durable'), { now }))
    expect(wire.map((c) => c.split(' ')[0])).toEqual(['evalsha', 'wait'])
    expect(await replica.cli('EXISTS', sessionKeyName(DEFAULT_PREFIX, key))).toBe('1')
    await ok.destroy(key)
    expect(await replica.cli('EXISTS', sessionKeyName(DEFAULT_PREFIX, key))).toBe('0')
    expect(await ok.destroyUser('durable', now)).toBe(0)

    const greedy = ioredisStore({ url: master.url, durability: { replicas: 2, timeoutMs: 100 } })
    await expect(greedy.create({ id: newId() }, sessionAt(now), { now })).rejects.toThrow(
      /acknowledged by 1 of 2 replicas/,
    )
    await greedy.close()
    await ok.close()
  })
})
