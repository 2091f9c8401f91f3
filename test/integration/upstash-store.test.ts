/**
 * The Upstash store over real HTTP through the project's gateway, against real redis-server
 * processes (standalone and a 3+3 Cluster): the conformance suite, HTTP requests per operation
 * counted at the gateway, script-cache flushes mid-run, and the gateway going away (refusing,
 * or hanging) and coming back.
 */
import { Redis as UpstashRedis } from '@upstash/redis/cloudflare'
import { Redis as IORedis } from 'ioredis'
import { createServer, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreError, StoreTimeoutError } from '../../src/errors.js'
import { scriptSha } from '../../src/store/redis/runner.js'
import { SCRIPTS } from '../../src/store/redis/scripts.js'
import { upstashClientOptions, upstashStore } from '../../src/store/upstash.js'
import { isMoved, type SessionKey, type Store, type StoredSession } from '../../src/store/types.js'
import { testStore } from '../../src/testing/index.js'
import { startGateway } from '../helpers/gateway.js'
import { startCluster, startRedis, stopAll, type RedisCluster } from '../helpers/redis.js'

type Gateway = Awaited<ReturnType<typeof startGateway>>

afterAll(stopAll)

/** An official client with the settings the store needs (the one Workers import). */
const officialClient = (gateway: Gateway, timeoutMs = 1000) =>
  new UpstashRedis({ url: gateway.url, token: gateway.token, ...upstashClientOptions(timeoutMs) })

testStore('upstash via gateway, standalone', async () => {
  const gateway = await startGateway({ url: (await startRedis()).url })
  return { store: upstashStore({ url: gateway.url, token: gateway.token }), cleanup: gateway.close }
})

testStore('upstash via gateway, standalone, @upstash/redis client', async () => {
  const gateway = await startGateway({ url: (await startRedis()).url })
  return { store: upstashStore({ client: officialClient(gateway) }), cleanup: gateway.close }
})

testStore('upstash via gateway, cluster', async () => {
  const cluster = await startCluster()
  const gateway = await startGateway({ cluster: cluster.startupNodes })
  return {
    store: upstashStore({ url: gateway.url, token: gateway.token }),
    cleanup: async () => {
      await gateway.close()
      await cluster.stop()
    },
  }
})

let seq = 0
const newId = () => `up${Date.now().toString(36)}x${(seq++).toString(36)}`.padEnd(43, 'A')
const session = (now: number, uid?: string): StoredSession => ({
  fields: { a: '1' },
  meta: {
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 600_000,
    absoluteExpiresAt: Math.floor((now + 3_600_000) / 1000) * 1000,
    uid,
  },
})
const noExtend = (now = Date.now()) => ({ now, extendIfBefore: 0, extendTo: 0 })
const extendNow = (now = Date.now()) => ({
  now,
  extendIfBefore: now + 600_000,
  extendTo: now + 900_000,
})

/** Whether every master has every session script cached (the steady state). */
async function scriptsCached(masters: IORedis[]): Promise<boolean> {
  const shas = await Promise.all(
    [SCRIPTS.create, SCRIPTS.load, SCRIPTS.commit, SCRIPTS.destroy, SCRIPTS.destroyUser].map(
      scriptSha,
    ),
  )
  for (const master of masters) {
    const exists = (await master.script('EXISTS', ...shas)) as number[]
    if (exists.some((e) => e !== 1)) return false
  }
  return true
}

/**
 * HTTP requests per store operation in the steady state. A server (on Cluster: each master)
 * caches a script after its first EVAL, so traffic runs first until every master has them.
 */
async function roundTrips(gateway: Gateway, store: Store, masters: IORedis[]) {
  const now = Date.now()
  const user = `u${newId().slice(2, 14)}`
  for (let i = 0; i < 100 && !(await scriptsCached(masters)); i++) {
    // fresh ids and users: keys land in every slot range, so every master sees every script
    const other = `w${newId().slice(2, 14)}`
    await store.create({ id: newId(), uid: other }, session(now, other), { now })
    await store.destroy({ id: newId() })
    await store.load({ id: newId() }, noExtend())
    await store.commit({ id: newId() }, { set: { b: '2' }, del: [] }, noExtend())
    await store.destroyUser(other, now)
  }
  expect(await scriptsCached(masters)).toBe(true)

  const anon: SessionKey = { id: newId() }
  const authed: SessionKey = { id: newId(), uid: user }
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, String(i)]))
  return {
    create: await gateway.count(() => store.create(anon, session(now), { now })),
    load: await gateway.count(() => store.load(anon, noExtend())),
    loadExtending: await gateway.count(() => store.load(anon, extendNow())),
    commit: await gateway.count(() => store.commit(anon, { set: many, del: ['a'] }, extendNow())),
    login: await gateway.count(() =>
      store.create(authed, session(now, user), { now, replace: anon, maxSessionsPerUser: 5 }),
    ),
    // regeneration of an authenticated session: same user, same slot, one script
    regenerate: await gateway.count(() =>
      store.create({ id: newId(), uid: user }, session(now, user), { now, replace: authed }),
    ),
    destroyUser: await gateway.count(() => store.destroyUser(user, now)),
  }
}

const CONTRACT = { create: 1, load: 1, loadExtending: 1, commit: 1, regenerate: 1, destroyUser: 1 }

describe('upstash store: HTTP requests per operation, counted at the gateway', () => {
  let cluster: RedisCluster
  const gateways: Gateway[] = []
  /** Direct connections to the masters (standalone: the one server), to check script caches. */
  const masters: IORedis[][] = []
  beforeAll(async () => {
    const [server, started] = await Promise.all([startRedis(), startCluster()])
    cluster = started
    gateways.push(await startGateway({ url: server.url }))
    gateways.push(await startGateway({ cluster: cluster.startupNodes }))
    masters.push([new IORedis({ port: server.port })])
    masters.push(cluster.masters.map((m) => new IORedis({ port: m.port })))
  })
  afterAll(async () => {
    for (const m of masters.flat()) m.disconnect()
    for (const gateway of gateways) await gateway.close()
    await cluster.stop()
  })

  for (const [label, make, which] of [
    ['url/token, standalone', (g: Gateway) => upstashStore({ url: g.url, token: g.token }), 0],
    [
      '@upstash/redis client, standalone',
      (g: Gateway) => upstashStore({ client: officialClient(g) }),
      0,
    ],
    ['url/token, cluster', (g: Gateway) => upstashStore({ url: g.url, token: g.token }), 1],
    [
      '@upstash/redis client, cluster',
      (g: Gateway) => upstashStore({ client: officialClient(g) }),
      1,
    ],
  ] as const) {
    it(`${label}: load 1, commit 1, create 1, login <= 2, destroyUser 1`, async () => {
      const gateway = gateways[which]!
      const counts = await roundTrips(gateway, make(gateway), masters[which]!)
      expect(counts).toMatchObject(CONTRACT)
      expect(counts.login).toBeLessThanOrEqual(2)
      console.log(`upstash store (${label}) HTTP requests: ${JSON.stringify(counts)}`)
    })
  }
})

describe('upstash store: failures', () => {
  let gateway: Gateway
  let raw: IORedis
  const TIMEOUT_MS = 1000
  let store: Store
  beforeAll(async () => {
    const server = await startRedis()
    gateway = await startGateway({ url: server.url })
    raw = new IORedis({ port: server.port, lazyConnect: true })
    store = upstashStore({ url: gateway.url, token: gateway.token, timeoutMs: TIMEOUT_MS })
  })
  afterAll(async () => {
    raw.disconnect()
    await gateway.close()
  })

  it('SCRIPT FLUSH mid-run: EVALSHA falls back to EVAL (2 requests once, then 1 again)', async () => {
    const key = { id: newId() }
    await store.create(key, session(Date.now()), { now: Date.now() })
    await store.commit(key, { set: { warm: '1' }, del: [] }, noExtend())
    await raw.script('FLUSH')
    expect(
      await gateway.count(() => store.commit(key, { set: { x: '1' }, del: [] }, noExtend())),
    ).toBe(2)
    expect(
      await gateway.count(() => store.commit(key, { set: { y: '1' }, del: [] }, noExtend())),
    ).toBe(1)
    // Concurrent traffic while the cache is flushed again and again: every call succeeds.
    const calls: Promise<unknown>[] = []
    for (let i = 0; i < 10; i++) {
      calls.push(store.commit(key, { set: { [`c${i}`]: String(i) }, del: [] }, noExtend()))
      calls.push(store.load(key, noExtend()))
      await raw.script('FLUSH')
    }
    const results = await Promise.all(calls)
    expect(results.every((r) => r !== null)).toBe(true)
    const got = await store.load(key, noExtend())
    if (!got || isMoved(got)) throw new Error('session lost')
    expect(Object.keys(got.session.fields).sort()).toEqual(
      ['a', 'warm', 'x', 'y', ...Array.from({ length: 10 }, (_, i) => `c${i}`)].sort(),
    )
  })

  it('ping measures the latency', async () => {
    const health = await store.ping()
    expect(health.latencyMs).toBeGreaterThan(0)
    expect(health.latencyMs).toBeLessThan(TIMEOUT_MS)
  })

  it('a wrong token is a StoreError that names neither token nor data', async () => {
    const bad = upstashStore({ url: gateway.url, token: 'not-the-token-0123456789' })
    const err = await bad.load({ id: newId() }, noExtend()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect(err).not.toBeInstanceOf(StoreTimeoutError)
    expect((err as Error).message).toBe('upstash store load failed')
    expect(String((err as Error).cause)).not.toContain('not-the-token')
  })

  it('gateway stopped: calls reject within timeoutMs + 300 ms, and work after a restart', async () => {
    const key = { id: newId() }
    await store.create(key, session(Date.now()), { now: Date.now() })
    await gateway.stop()
    let slowest = 0
    for (const call of [
      () => store.load(key, noExtend()),
      () => store.commit(key, { set: { z: '1' }, del: [] }, noExtend()),
      () => store.create({ id: newId() }, session(Date.now()), { now: Date.now() }),
      () => store.destroyUser('nobody', Date.now()),
      () => store.ping(),
    ]) {
      const started = performance.now()
      const err = await call().catch((e: unknown) => e)
      slowest = Math.max(slowest, performance.now() - started)
      expect(err).toBeInstanceOf(StoreError)
      expect((err as Error).message).not.toContain(gateway.token)
    }
    expect(slowest).toBeLessThan(TIMEOUT_MS + 300)
    await gateway.restart()
    expect(await store.load(key, noExtend())).not.toBeNull()
    console.log(`upstash store, gateway stopped: slowest rejection ${slowest.toFixed(0)} ms`)
  })

  it('a gateway that accepts and never answers: StoreTimeoutError within timeoutMs + 300 ms', async () => {
    const sockets = new Set<Socket>()
    const hole = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    const { port } = hole.address() as { port: number }
    try {
      const url = `http://127.0.0.1:${port}`
      for (const hung of [
        upstashStore({ url, token: gateway.token, timeoutMs: 400 }),
        upstashStore({
          client: new UpstashRedis({ url, token: gateway.token, ...upstashClientOptions(400) }),
          timeoutMs: 400,
        }),
      ]) {
        const started = performance.now()
        const err = await hung.load({ id: newId() }, noExtend()).catch((e: unknown) => e)
        const took = performance.now() - started
        expect(err).toBeInstanceOf(StoreTimeoutError)
        expect(took).toBeLessThan(400 + 300)
        console.log(`upstash store, hanging gateway: rejected after ${took.toFixed(0)} ms`)
      }
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => hole.close(resolve))
    }
  })
})

describe('upstash store: options', () => {
  it('refuses a client that would JSON-parse session values', () => {
    const parsing = new UpstashRedis({
      url: 'http://127.0.0.1:1',
      token: 'x',
      enableTelemetry: false,
    })
    expect(() => upstashStore({ client: parsing })).toThrow(/automaticDeserialization: false/)
  })

  it('names the option it needs', () => {
    expect(() => upstashStore({})).toThrow(/"url" and "token"/)
    expect(() => upstashStore({ url: 'redis://x', token: 't' })).toThrow(/"url"/)
    expect(() => upstashStore({ url: 'http://x', token: 't', timeoutMs: 0 })).toThrow(/"timeoutMs"/)
    expect(() => upstashStore({ url: 'http://x', token: 't', prefix: '{x}' })).toThrow()
  })
})
