import { Hono, type Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { Redis } from 'ioredis'
import type { Server } from 'node:http'
// the package root as Node resolves it (the `node` condition: node:crypto), built as published
import type { SessionEnv } from '../src/node.js'
import type { Store } from '../src/store/types.js'
import { ioredisStore, memoryStore, session, upstashStore } from './library.js'

export interface ContenderConfig {
  redisUrl: string
  gatewayUrl?: string | undefined
  gatewayToken?: string | undefined
}

type Handler =
  { fetch: (req: Request) => Response | Promise<Response> } | { listen: Server['listen'] }

const KEY = { kid: 'bench', secret: 'QmVuY2htYXJrS2V5QmVuY2htYXJrS2V5QmVuY2htYXI' }
/** Store bounds, milliseconds: the defaults, unless BENCH_TIMEOUT_MS raises them (valgrind). */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS) || undefined
const FIELDS = Array.from({ length: 50 }, (_, i) => `f${i}`)
let tick = 0

/** This project with a given store: the middleware as an app would use it. */
function thisProject(store: Store): Handler {
  const app = new Hono<SessionEnv>()
  // plain HTTP on loopback: the explicit localhost mode; rotation off so every request is alike
  app.use(
    session({
      keys: [KEY],
      store,
      insecureLocalhost: true,
      rotateEvery: 0,
      ...(TIMEOUT_MS && { storeTimeoutMs: TIMEOUT_MS }),
    }),
  )
  app.get('/setup', (c) => {
    const s = c.get('session')
    s.set('count', 0)
    if (c.req.query('fields') === '50') for (const f of FIELDS) s.set(f, 'x'.repeat(16))
    return c.json({ ok: true })
  })
  app.get('/read', async (c) => c.json({ count: await c.get('session').get('count') }))
  // read, add one, write back: the library's atomic increment (one store call)
  app.post('/write', async (c) => c.json({ count: await c.get('session').increment('count') }))
  // the same with get() + set(): two store calls, and concurrent requests may lose a count
  app.post('/write-get-set', async (c) => {
    const s = c.get('session')
    const count = (((await s.get('count')) as number | undefined) ?? 0) + 1
    s.set('count', count)
    return c.json({ count })
  })
  app.post('/write-blind', (c) => {
    c.get('session').set('count', ++tick)
    return c.json({ ok: true })
  })
  app.post('/many', (c) => {
    c.get('session').set(FIELDS[tick++ % 50]!, `v${tick}`.padEnd(16, 'x'))
    return c.json({ ok: true })
  })
  app.post('/login', (c) => {
    c.get('session').authenticate(`user${tick++ % 1000}`, { roles: ['user'] })
    return c.json({ ok: true })
  })
  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.json({ ok: true })
  })
  // the signed-in user as the store has it (null once logged out)
  app.get('/me', async (c) => c.json({ user: (await c.get('session').info())?.userId ?? null }))
  return app
}

/** The floor: one raw GET (read) or GET + SET (write) on a key from a plain cookie. */
function floor(redisUrl: string): Handler {
  const redis = new Redis(redisUrl)
  const app = new Hono()
  const key = (c: Context) => `floor:${getCookie(c, 'sid') ?? 'none'}`
  app.get('/setup', async (c) => {
    const sid = crypto.randomUUID()
    await redis.set(`floor:${sid}`, JSON.stringify({ count: 0 }), 'PX', 600_000)
    setCookie(c, 'sid', sid, { httpOnly: true, path: '/' })
    return c.json({ ok: true })
  })
  app.get('/read', async (c) => c.json(JSON.parse((await redis.get(key(c))) ?? '{}')))
  app.post('/write', async (c) => {
    const k = key(c)
    const data = JSON.parse((await redis.get(k)) ?? '{"count":0}') as { count: number }
    data.count++
    await redis.set(k, JSON.stringify(data), 'PX', 600_000)
    return c.json(data)
  })
  // login + logout at their least: a new random id stored with the user and a TTL, then deleted
  // (no token, no encryption, no index of the user's sessions, no fixation or limit handling)
  app.post('/login', async (c) => {
    const sid = crypto.randomUUID()
    await redis.set(`floor:${sid}`, JSON.stringify({ user: `user${tick++ % 1000}` }), 'PX', 600_000)
    setCookie(c, 'sid', sid, { httpOnly: true, path: '/' })
    return c.json({ ok: true })
  })
  app.post('/logout', async (c) => {
    await redis.del(key(c))
    deleteCookie(c, 'sid', { path: '/' })
    return c.json({ ok: true })
  })
  app.get('/me', async (c) => {
    const data = JSON.parse((await redis.get(key(c))) ?? '{}') as { user?: string }
    return c.json({ user: data.user ?? null })
  })
  return app
}

/** express-session + connect-redis on Express, with the client connect-redis documents (node-redis). */
async function expressSession(redisUrl: string): Promise<Handler> {
  const { default: express } = await import('express')
  const { default: expressSessionMiddleware } = await import('express-session')
  const { RedisStore } = await import('connect-redis')
  const { createClient } = await import('redis')
  const client = createClient({ url: redisUrl })
  await client.connect()
  const app = express()
  app.use(
    expressSessionMiddleware({
      store: new RedisStore({ client, prefix: 'es:' }),
      secret: 'bench-secret-bench-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, secure: false, maxAge: 600_000 },
    }),
  )
  type S = Record<string, unknown> & {
    count?: number
    regenerate(cb: (err?: unknown) => void): void
  }
  app.get('/setup', (req, res) => {
    const s = req.session as unknown as S
    s.count = 0
    if (req.query.fields === '50') for (const f of FIELDS) s[f] = 'x'.repeat(16)
    res.json({ ok: true })
  })
  app.get('/read', (req, res) => res.json({ count: (req.session as unknown as S).count }))
  app.post('/write', (req, res) => {
    const s = req.session as unknown as S
    s.count = (s.count ?? 0) + 1
    res.json({ count: s.count })
  })
  app.post('/many', (req, res) => {
    ;(req.session as unknown as S)[FIELDS[tick++ % 50]!] = `v${tick}`.padEnd(16, 'x')
    res.json({ ok: true })
  })
  app.post('/login', (req, res) => {
    req.session.regenerate((err) => {
      if (err) return void res.status(500).end()
      ;(req.session as unknown as S).user = `user${tick++ % 1000}`
      res.json({ ok: true })
    })
  })
  app.post('/logout', (req, res) => {
    req.session.destroy((err) => {
      if (err) return void res.status(500).end()
      res.json({ ok: true })
    })
  })
  app.get('/me', (req, res) => res.json({ user: (req.session as unknown as S).user ?? null }))
  return { listen: app.listen.bind(app) as unknown as Server['listen'] }
}

/** hono-sessions: a cookie store (not in Redis: the session travels in the cookie). */
async function honoSessions(): Promise<Handler> {
  const { sessionMiddleware, CookieStore } = await import('hono-sessions')
  const app = new Hono()
  app.use(
    sessionMiddleware({
      store: new CookieStore(),
      encryptionKey: 'bench-encryption-key-at-least-32-characters',
      expireAfterSeconds: 600,
      cookieOptions: { httpOnly: true, path: '/' },
    }) as never,
  )
  type S = { get(k: string): unknown; set(k: string, v: unknown): void }
  const s = (c: { get(k: 'session'): unknown }) => c.get('session' as never) as S
  app.get('/setup', (c) => {
    s(c).set('count', 0)
    return c.json({ ok: true })
  })
  app.get('/read', (c) => c.json({ count: s(c).get('count') }))
  app.post('/write', (c) => {
    const count = ((s(c).get('count') as number | undefined) ?? 0) + 1
    s(c).set('count', count)
    return c.json({ count })
  })
  return app
}

/** @hono/session: JWE cookie sessions (not in Redis). */
async function honoSession(): Promise<Handler> {
  const { useSession } = await import('@hono/session')
  const app = new Hono()
  app.use(useSession({ secret: 'bench-secret-bench-secret-bench-secret-0123' }) as never)
  type S = {
    get(): Promise<{ count?: number } | null>
    update(d: { count: number }): Promise<void>
  }
  const s = (c: { get(k: 'session'): unknown }) => c.get('session' as never) as S
  app.get('/setup', async (c) => {
    await s(c).update({ count: 0 })
    return c.json({ ok: true })
  })
  app.get('/read', async (c) => c.json({ count: (await s(c).get())?.count }))
  app.post('/write', async (c) => {
    const count = ((await s(c).get())?.count ?? 0) + 1
    await s(c).update({ count })
    return c.json({ count })
  })
  return app
}

export const contenders = {
  'this-ioredis': (c: ContenderConfig) =>
    thisProject(
      ioredisStore({
        url: c.redisUrl,
        prefix: 'b1:',
        ...(TIMEOUT_MS && { commandTimeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS }),
        // BENCH_AUTO_PIPELINING=0: the store without write batching, one write per command
        ...(process.env.BENCH_AUTO_PIPELINING === '0' && { autoPipelining: false }),
        // BENCH_PLAIN_READS=1: reads with no extension due as one HGETALL (the plainReads option)
        ...(process.env.BENCH_PLAIN_READS === '1' && { plainReads: true }),
      }),
    ),
  'this-upstash-gateway': (c: ContenderConfig) =>
    thisProject(
      upstashStore({
        url: c.gatewayUrl!,
        token: c.gatewayToken!,
        prefix: 'b2:',
        ...(TIMEOUT_MS && { timeoutMs: TIMEOUT_MS }),
      }),
    ),
  'this-memory': () => thisProject(memoryStore({ maxSessions: 1_000_000 })),
  'express-session-connect-redis': (c: ContenderConfig) => expressSession(c.redisUrl),
  'hono-sessions': () => honoSessions(),
  'hono-session': () => honoSession(),
  // loaded only when it runs: its dependencies (better-sqlite3, a native module) stay out of the rest
  'better-auth': async (c: ContenderConfig) =>
    (await import('./better-auth.js')).betterAuthContender(c.redisUrl),
  floor: (c: ContenderConfig) => floor(c.redisUrl),
} satisfies Record<string, (c: ContenderConfig) => Handler | Promise<Handler>>

/** The key prefix each Redis-backed contender writes, for MEMORY USAGE. */
export const PREFIXES: Record<string, string> = {
  'this-ioredis': 'b1:',
  'this-upstash-gateway': 'b2:',
  'express-session-connect-redis': 'es:',
  'better-auth': 'ba:',
  floor: 'floor:',
}
