/**
 * The Upstash store over real HTTP through the project's gateway, against real redis-server
 * processes: the conformance suite (standalone and Cluster), HTTP requests per operation
 * counted at the gateway, a script-cache flush, and the gateway going away and coming back.
 */
import { Redis as Upstash } from '@upstash/redis'
import { Redis as IORedis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StoreError } from '../src/errors.js'
import { upstashStore } from '../src/store/upstash.js'
import type { Store, StoredSession } from '../src/store/types.js'
import { testStore } from './conformance.js'
import { startGateway } from './helpers/gateway.js'
import { startCluster, startRedis, stopAll } from './helpers/redis.js'

afterAll(stopAll)

testStore('upstash via gateway, standalone', async () => {
  const server = await startRedis()
  const gateway = await startGateway({ url: server.url })
  return { store: upstashStore({ url: gateway.url, token: gateway.token }), cleanup: gateway.close }
})

testStore('upstash via gateway, official @upstash/redis client', async () => {
  const server = await startRedis()
  const gateway = await startGateway({ url: server.url })
  const client = new Upstash({
    url: gateway.url,
    token: gateway.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: { retries: 0, backoff: () => 0 },
    signal: () => AbortSignal.timeout(1000),
  })
  return { store: upstashStore({ client }), cleanup: gateway.close }
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

describe('upstash store through the gateway', () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>
  let store: Store
  let raw: IORedis
  beforeAll(async () => {
    const server = await startRedis()
    gateway = await startGateway({ url: server.url })
    store = upstashStore({ url: gateway.url, token: gateway.token, timeoutMs: 1000 })
    raw = new IORedis({ port: server.port })
    // warm the script cache so the counts below are the steady state
    const warm = { id: newId(), uid: 'warm' }
    await store.create(warm, session(Date.now(), 'warm'), { now: Date.now() })
    await store.load(warm, noExtend())
    await store.commit(warm, { set: { b: '2' }, del: [] }, noExtend())
    await store.destroyUser('warm', Date.now())
    await store.create({ id: newId() }, session(Date.now()), {
      now: Date.now(),
      replace: { id: newId(), uid: 'w' },
    })
  })
  afterAll(async () => {
    raw.disconnect()
    await gateway.close()
  })

  it('one HTTP request per operation: load 1, commit 1, create 1, login <= 2, destroyUser 1', async () => {
    const now = Date.now()
    const anon = { id: newId() }
    expect(await gateway.count(() => store.create(anon, session(now), { now }))).toBe(1)
    expect(await gateway.count(() => store.load(anon, noExtend()))).toBe(1)
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, String(i)]))
    expect(
      await gateway.count(() => store.commit(anon, { set: many, del: ['a'] }, noExtend())),
    ).toBe(1)
    const user = { id: newId(), uid: 'bob' }
    const login = await gateway.count(() =>
      store.create(user, session(now, 'bob'), { now, replace: anon }),
    )
    expect(login).toBeLessThanOrEqual(2)
    expect(await gateway.count(() => store.destroyUser('bob', now))).toBe(1)
    console.log(
      `upstash store HTTP requests: load 1, commit 1, create 1, login ${login}, destroyUser 1`,
    )
  })

  it('keeps working across SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const key = { id: newId() }
    await store.create(key, session(Date.now()), { now: Date.now() })
    for (let i = 0; i < 5; i++) {
      await raw.script('FLUSH')
      expect(
        (await store.commit(key, { set: { [`x${i}`]: '1' }, del: [] }, noExtend())) !== null,
      ).toBe(true)
    }
    const got = await store.load(key, noExtend())
    expect(got && 'session' in got && Object.keys(got.session.fields)).toHaveLength(6)
  })

  it('gateway down: calls reject within the timeout with a StoreError, then recover', async () => {
    const key = { id: newId() }
    await store.create(key, session(Date.now()), { now: Date.now() })
    await gateway.stop()
    let slowest = 0
    for (let i = 0; i < 5; i++) {
      const started = Date.now()
      const err = await store.load(key, noExtend()).catch((e: unknown) => e)
      slowest = Math.max(slowest, Date.now() - started)
      expect(err).toBeInstanceOf(StoreError)
      expect(String((err as Error).message)).not.toContain(gateway.token)
    }
    expect(slowest).toBeLessThan(1000 + 300)
    await gateway.restart()
    expect(await store.load(key, noExtend())).not.toBeNull()
    console.log(`upstash store, gateway down: slowest rejection ${slowest} ms`)
  })
})
