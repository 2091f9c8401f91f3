/**
 * The rate limiter middleware (issue 20, item 3) over real HTTP, on every store: the memory
 * store, ioredis on a real Redis standalone and Cluster, and the Upstash store through the
 * project's gateway in front of both. Exact bounds under concurrency (300 parallel requests
 * against a limit of 10), keys a client cannot forge with `X-Forwarded-For`, the headers, and
 * bad keys and a dead store answered clearly.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono, type Context } from 'hono'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clientAddress,
  rateLimit,
  session,
  type RateLimitOptions,
  type SessionEnv,
} from '../../src/index.js'
import { ioredisStore } from '../../src/store/ioredis.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { upstashStore } from '../../src/store/upstash.js'
import { scriptSha } from '../../src/store/redis/runner.js'
import { SCRIPTS } from '../../src/store/redis/scripts.js'
import { startGateway } from '../helpers/gateway.js'
import { onTheWire } from '../helpers/monitor.js'
import { CookieJar, KEY_A, send } from '../helpers/session-app.js'
import { serveHttp, type Served } from '../helpers/load.js'
import { freePort, startCluster, startRedis, stopAll, type RedisCluster } from '../helpers/redis.js'

const connection = (c: Context) => getConnInfo(c).remote.address
let seq = 0

/** An app with one limited route, served over real HTTP; the key is the connection's address by default. */
async function limitedApp(store: Store, options: Partial<RateLimitOptions> = {}) {
  const app = new Hono()
  app.use(
    '/limited',
    rateLimit({
      store,
      name: `t${seq++}`,
      limit: 10,
      windowMs: 60_000,
      key: clientAddress({ connection }),
      ...options,
    }),
  )
  app.get('/limited', (c) => c.json({ ok: true }))
  return serveHttp(app.fetch)
}

interface Answer {
  status: number
  headers: Headers
  body: unknown
}
async function get(served: Served, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${served.url}/limited`, { headers })
  return { status: res.status, headers: res.headers, body: await res.json() }
}
const tally = (answers: Answer[]) => {
  const out: Record<number, number> = {}
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1
  return out
}

let redis: Awaited<ReturnType<typeof startRedis>>
let cluster: RedisCluster
const closers: (() => Promise<unknown>)[] = []
const stores: Record<string, Store> = {}
beforeAll(async () => {
  ;[redis, cluster] = await Promise.all([startRedis(), startCluster()])
  const [gatewayOne, gatewayCluster] = await Promise.all([
    startGateway({ url: redis.url }),
    startGateway({ cluster: cluster.startupNodes }),
  ])
  stores.memory = memoryStore()
  stores['ioredis standalone'] = ioredisStore({ url: redis.url, logger: () => {} })
  stores['ioredis cluster'] = ioredisStore({ cluster: cluster.startupNodes, logger: () => {} })
  stores['upstash via gateway, standalone'] = upstashStore({
    url: gatewayOne.url,
    token: gatewayOne.token,
  })
  stores['upstash via gateway, cluster'] = upstashStore({
    url: gatewayCluster.url,
    token: gatewayCluster.token,
  })
  closers.push(
    () => stores['ioredis standalone']!.close!(),
    () => stores['ioredis cluster']!.close!(),
    gatewayOne.close,
    gatewayCluster.close,
  )
}, 120_000)
afterAll(async () => {
  for (const close of closers) await close()
  await cluster?.stop()
  await stopAll()
})

const STORES = [
  'memory',
  'ioredis standalone',
  'ioredis cluster',
  'upstash via gateway, standalone',
  'upstash via gateway, cluster',
]

describe.each(STORES)('rateLimit on the %s store', (name) => {
  let served: Served
  afterAll(() => served?.close())

  it('300 parallel requests against a limit of 10: exactly 10 pass, 290 get 429', async () => {
    served = await limitedApp(stores[name]!)
    const answers = await Promise.all(Array.from({ length: 300 }, () => get(served)))
    expect(tally(answers)).toEqual({ 200: 10, 429: 290 })
    const passed = answers.filter((a) => a.status === 200)
    // each count of the window handed out once: remaining 9 down to 0
    expect(passed.map((a) => Number(a.headers.get('RateLimit-Remaining'))).sort()).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ])
    for (const a of answers) {
      expect(a.headers.get('RateLimit-Limit')).toBe('10')
      expect(a.headers.get('RateLimit-Policy')).toBe('10;w=60')
      const reset = Number(a.headers.get('RateLimit-Reset'))
      expect(reset).toBeGreaterThan(0)
      expect(reset).toBeLessThanOrEqual(60)
    }
    for (const a of answers.filter((x) => x.status === 429)) {
      expect(a.body).toEqual({ error: 'Too many requests', code: 'ERR_RATE_LIMITED' })
      expect(a.headers.get('Content-Type')).toMatch(/^application\/json/)
      expect(a.headers.get('RateLimit-Remaining')).toBe('0')
      expect(a.headers.get('Retry-After')).toBe(a.headers.get('RateLimit-Reset'))
    }
    await served.close()
  })

  it('200 requests, each with a new X-Forwarded-For: still 429 after the limit', async () => {
    served = await limitedApp(stores[name]!)
    const answers: Answer[] = []
    for (let i = 0; i < 200; i++)
      answers.push(await get(served, { 'X-Forwarded-For': `203.0.113.${i % 250}, 10.9.${i}.1` }))
    expect(tally(answers)).toEqual({ 200: 10, 429: 190 })
    expect(answers.slice(10).every((a) => a.status === 429)).toBe(true)
    await served.close()
  })

  it('behind one trusted proxy: the entry it appended is the key, entries before it are not', async () => {
    served = await limitedApp(stores[name]!, {
      limit: 3,
      key: clientAddress({ connection, trustedProxies: 1 }),
    })
    // one client forging the left part of the header: one budget
    const forged: Answer[] = []
    for (let i = 0; i < 6; i++)
      forged.push(await get(served, { 'X-Forwarded-For': `198.51.100.${i}, 192.0.2.7` }))
    expect(forged.map((a) => a.status)).toEqual([200, 200, 200, 429, 429, 429])
    // another client the proxy saw: a budget of its own
    expect((await get(served, { 'X-Forwarded-For': '192.0.2.8' })).status).toBe(200)
    await served.close()
  })
})

describe('rateLimit: bad input and a dead store', () => {
  it('a key over 1024 characters is 400, never a 5xx; no key: not limited', async () => {
    const served = await limitedApp(stores.memory!, { key: (c) => c.req.header('X-Api-Key') })
    try {
      const long = await get(served, { 'X-Api-Key': 'k'.repeat(1025) })
      expect(long).toMatchObject({ status: 400, body: { code: 'ERR_SESSION_INPUT' } })
      expect((await get(served, { 'X-Api-Key': 'k'.repeat(1024) })).status).toBe(200)
      // no key: the request is not limited by this limiter (and gets no headers)
      const unkeyed = await get(served)
      expect(unkeyed.status).toBe(200)
      expect(unkeyed.headers.get('RateLimit-Limit')).toBeNull()
    } finally {
      await served.close()
    }
  })

  it('key values reach Redis only as hashes, under the limiter name', async () => {
    const app = new Hono()
    const key = 'alice@example.com'
    const store = stores['ioredis standalone']!
    app.use(rateLimit({ store, name: 'hashed', limit: 5, windowMs: 60_000, key: () => key }))
    app.get('/', (c) => c.text('ok'))
    expect((await app.request('/')).status).toBe(200)
    const raw = new Redis(redis.port, redis.host)
    try {
      const keys = await raw.keys('*hashed*')
      expect(keys).toHaveLength(1)
      expect(keys[0]).toMatch(/^sess:rl:\{hashed:[A-Za-z0-9_-]{43}\}$/)
      expect((await raw.keys('*alice*')).length).toBe(0)
    } finally {
      raw.disconnect()
    }
  })

  it('a lone surrogate in a key is 400 (in-process: HTTP headers cannot carry one)', async () => {
    const app = new Hono()
    app.use(rateLimit({ store: memoryStore(), limit: 1, windowMs: 1000, key: () => 'a\uD800' }))
    app.get('/', (c) => c.text('ok'))
    const res = await app.request('/')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'ERR_SESSION_INPUT' })
  })

  it('with Redis unreachable: 503 with Retry-After (fail-closed), or served (fail-open)', async () => {
    const dead = ioredisStore({
      url: `redis://127.0.0.1:${await freePort()}`,
      commandTimeoutMs: 200,
      logger: () => {},
    })
    const closed = await limitedApp(dead)
    const open = await limitedApp(dead, { onStoreError: 'fail-open' })
    try {
      const refused = await get(closed)
      expect(refused).toMatchObject({ status: 503, body: { code: 'ERR_SESSION_STORE' } })
      expect(refused.headers.get('Retry-After')).toBe('1')
      expect((await get(open)).status).toBe(200)
    } finally {
      await Promise.all([closed.close(), open.close(), dead.close()])
    }
  })

  it('a store without rateHit, or bad options, are refused at setup', () => {
    const noRate = { ...memoryStore(), rateHit: undefined } as Store
    const base = { limit: 1, windowMs: 1000, key: () => 'k' }
    expect(() => rateLimit({ ...base, store: noRate })).toThrow(/rateHit/)
    expect(() => rateLimit({ ...base, store: memoryStore(), limit: 0 })).toThrow(/limit/)
    expect(() => rateLimit({ ...base, store: memoryStore(), windowMs: 1.5 })).toThrow(/windowMs/)
    expect(() => rateLimit({ ...base, store: memoryStore(), name: 'a b' })).toThrow(/name/)
    expect(() => clientAddress({ connection, trustedProxies: -1 })).toThrow(/trustedProxies/)
  })
})

describe.each(['ioredis standalone', 'ioredis cluster'])('rateLimit on the wire (%s)', (name) => {
  it('adds exactly one script call per limited request, and a refusal costs only that one', async () => {
    const store = stores[name]!
    const servers = name.endsWith('cluster') ? cluster.masters : [redis]
    const app = new Hono<SessionEnv<{ n: number }>>()
    app.use(session({ keys: [KEY_A], store, insecureLocalhost: true }))
    const limited = rateLimit({
      store,
      name: `w${seq++}`,
      limit: 3,
      windowMs: 60_000,
      key: () => 'k',
    })
    app.get('/plain', async (c) => c.json({ n: (await c.get('session').get('n')) ?? 0 }))
    app.get('/limited', limited, async (c) => c.json({ n: (await c.get('session').get('n')) ?? 0 }))
    app.post('/n', async (c) => c.json({ n: await c.get('session').increment('n') }))
    const jar = new CookieJar()
    // a stored session, and every script used once (a first use may be EVALSHA + EVAL)
    await send(app, jar, 'POST', '/n')
    await send(app, jar, 'GET', '/plain')
    await send(app, jar, 'GET', '/limited')
    const wire = (path: string) => onTheWire(servers, () => send(app, jar, 'GET', path))
    const plain = await wire('/plain')
    const limitedRead = await wire('/limited')
    const hit = `evalsha ${await scriptSha(SCRIPTS.hit)}`
    expect(plain).toHaveLength(1)
    expect(limitedRead).toHaveLength(2)
    expect(limitedRead.filter((c) => c === hit)).toHaveLength(1)
    expect(limitedRead.filter((c) => c !== hit)).toEqual(plain)
    // the third request of the window passes; the fourth is refused after the limiter's call alone
    expect((await send(app, jar, 'GET', '/limited')).status).toBe(200)
    let status = 0
    const refused = await onTheWire(servers, async () => {
      status = (await send(app, jar, 'GET', '/limited')).status
    })
    expect(status).toBe(429)
    expect(refused).toEqual([hit])
  })
})
