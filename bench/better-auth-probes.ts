/**
 * `npm run bench:probes`: what better-auth 1.7 (as bench/better-auth.ts sets it up: sessions in
 * Redis through `@better-auth/redis-storage`) does where a session layer is tested for more than
 * speed, next to this project on the same Redis where the same question applies. Prints one JSON
 * line per probe. Counts, not timings: these are the figures of the README's comparison table.
 *   index        21 concurrent sign-ins of one user: how many the user's session list keeps, and
 *                how many of the other 20 are still signed in after "sign out other devices"
 *   totp         one TOTP code, two sign-ins (better-auth's twoFactor plugin): how many pass
 *   rate-limit   200 failed sign-ins, each with its own X-Forwarded-For: how many get 429
 *   revocation   a session revoked from another device, read again with the cookie cache on
 *   lifetime     a session read every 1.2 s with expiresIn 3 s: still signed in after 10 s?
 *   at-rest      what one signed-in session adds to Redis: keys, MEMORY USAGE, and whether the
 *                user's e-mail or the session token can be read in the dump
 */
import { betterAuth, type BetterAuthOptions } from 'better-auth'
import { twoFactor } from 'better-auth/plugins'
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import { Secret, TOTP } from 'otpauth'
import { session, type SessionEnv } from '../src/node.js'
import { ioredisStore } from '../src/store/ioredis.js'
import { startRedis, stopAll } from '../test/helpers/redis.js'
import { cookieHeader } from './routes.js'
import { betterAuthOptions } from './better-auth.js'

const TRIALS = 5
const CONCURRENT = 21
const PASSWORD = 'bench-password'
const BASE = 'http://127.0.0.1'

const print = (probe: string, result: Record<string, unknown>) =>
  console.log(JSON.stringify({ probe, ...result }))

/** A better-auth instance on `redis` with extra options, its tables created. */
async function auth(redis: Redis, extra: Partial<BetterAuthOptions> = {}) {
  const base = betterAuthOptions(redis)
  const a = betterAuth({
    ...base,
    ...extra,
    session: { ...base.session, ...extra.session },
  } as BetterAuthOptions)
  await (await a.$context).runMigrations()
  return a
}
type Auth = Awaited<ReturnType<typeof auth>>

let users = 0
async function newUser(a: Auth) {
  const email = `probe${users++}@bench.test`
  await a.api.signUpEmail({ body: { email, password: PASSWORD, name: 'probe' } })
  return email
}
async function signIn(a: Auth, email: string, headers: HeadersInit = {}) {
  const res = await a.api.signInEmail({
    body: { email, password: PASSWORD },
    headers: new Headers(headers),
    asResponse: true,
  })
  return { res, cookie: cookieHeader(res.headers.getSetCookie()), body: await res.json() }
}

/** better-auth: 21 concurrent sign-ins of one user, then the entries of its session list. */
async function betterAuthIndex(redis: Redis) {
  const a = await auth(redis)
  const kept: number[] = []
  const survivedSignOutOthers: number[] = []
  for (let t = 0; t < TRIALS; t++) {
    const email = await newUser(a)
    const logins = await Promise.all(Array.from({ length: CONCURRENT }, () => signIn(a, email)))
    const [mine, ...others] = logins.map((l) => new Headers({ cookie: l.cookie }))
    kept.push((await a.api.listSessions({ headers: mine! })).length)
    // "sign out of every other device" revokes what the list names: the rest stay signed in
    await a.api.revokeOtherSessions({ headers: mine! })
    const alive = await Promise.all(others.map((headers) => a.api.getSession({ headers })))
    survivedSignOutOthers.push(alive.filter((s) => s !== null).length)
  }
  print('index', { contender: 'better-auth', concurrent: CONCURRENT, kept, survivedSignOutOthers })
}

/** Every key under `prefix` and its value as text (a dump, as an operator or a thief sees it). */
async function dump(redis: Redis, prefix: string) {
  const out = new Map<string, string>()
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    for (const k of keys) {
      const type = await redis.type(k)
      const value =
        type === 'string'
          ? await redis.get(k)
          : type === 'hash'
            ? JSON.stringify(await redis.hgetall(k))
            : JSON.stringify(await redis.zrange(k, 0, -1, 'WITHSCORES'))
      out.set(k, value ?? '')
    }
  } while (cursor !== '0')
  return out
}
const bytesOf = async (redis: Redis, keys: string[]) => {
  let bytes = 0
  for (const k of keys) bytes += Number(await redis.call('MEMORY', 'USAGE', k))
  return bytes
}

/** One signed-in session with a counter: the keys it adds, their size, what a dump shows. */
async function atRest(redis: Redis, redisUrl: string) {
  const a = await auth(redis)
  const email = await newUser(a)
  const before = await dump(redis, 'ba:')
  const { body } = await signIn(a, email)
  const after = await dump(redis, 'ba:')
  const added = [...after.keys()].filter((k) => !before.has(k))
  const text = added.map((k) => k + after.get(k)).join('\n')
  const token = (body as { token: string }).token
  print('at-rest', {
    contender: 'better-auth',
    keys: added.length,
    bytes: await bytesOf(redis, added),
    emailInDump: text.includes(email),
    sessionTokenInDump: text.includes(token),
  })
  for (const encryptAtRest of [false, true]) {
    const prefix = encryptAtRest ? 'p3:' : 'p2:'
    const store = ioredisStore({ url: redisUrl, prefix })
    const app = new Hono<SessionEnv>()
    app.use(session({ keys: [KEY], store, insecureLocalhost: true, encryptAtRest }))
    app.post('/login', (c) => {
      const s = c.get('session')
      s.authenticate(email)
      s.set('count', 0)
      return c.json({ ok: true })
    })
    const res = await app.request('/login', {
      method: 'POST',
      headers: { origin: 'http://localhost' },
    })
    const cookie = cookieHeader(res.headers.getSetCookie())
    const secret = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
    const all = await dump(redis, prefix)
    const text = [...all].map(([k, v]) => k + v).join('\n')
    print('at-rest', {
      contender: encryptAtRest ? 'this-ioredis, encryptAtRest' : 'this-ioredis',
      keys: all.size,
      bytes: await bytesOf(redis, [...all.keys()]),
      userIdInDump: text.includes(email),
      cookieValueInDump: text.includes(secret),
      // the session's data field, stored as JSON text: "0" in clear, or sealed
      counterInClear: text.includes('"count":"0"'),
    })
    await store.close?.()
  }
}

const KEY = { kid: 'probe', secret: 'UHJvYmVLZXlQcm9iZUtleVByb2JlS2V5UHJvYmVLZXk' }

/** This project: the same 21 concurrent logins of one user, then listSessions(). */
async function thisIndex(redisUrl: string) {
  const app = new Hono<SessionEnv>()
  const store = ioredisStore({ url: redisUrl, prefix: 'p1:' })
  app.use(session({ keys: [KEY], store, insecureLocalhost: true }))
  app.post('/login/:user', (c) => {
    c.get('session').authenticate(c.req.param('user'))
    return c.json({ ok: true })
  })
  app.get('/list', async (c) => c.json((await c.get('session').listSessions()).length))
  const kept: number[] = []
  for (let t = 0; t < TRIALS; t++) {
    const logins = await Promise.all(
      Array.from({ length: CONCURRENT }, () =>
        app.request(`/login/user-${t}`, {
          method: 'POST',
          headers: { origin: 'http://localhost' },
        }),
      ),
    )
    const cookie = cookieHeader(logins[0]!.headers.getSetCookie())
    kept.push((await (await app.request('/list', { headers: { cookie } })).json()) as number)
  }
  await store.close?.()
  print('index', { contender: 'this-ioredis', concurrent: CONCURRENT, kept })
}

/** better-auth's twoFactor plugin: one TOTP code offered at two sign-ins. */
async function betterAuthTotp(redis: Redis) {
  const a = await auth(redis, { plugins: [twoFactor()] } as Partial<BetterAuthOptions>)
  const email = await newUser(a)
  const first = await signIn(a, email)
  const api = a.api as unknown as Record<string, (o: object) => Promise<unknown>>
  const { totpURI } = (await api.enableTwoFactor!({
    body: { password: PASSWORD },
    headers: new Headers({ cookie: first.cookie }),
  })) as { totpURI: string }
  const secret = Secret.fromBase32(new URL(totpURI).searchParams.get('secret')!)
  const code = () => new TOTP({ secret }).generate()
  // enabling needs one verification with the session that enabled it
  await api.verifyTOTP!({ body: { code: code() }, headers: new Headers({ cookie: first.cookie }) })
  const one = code()
  let accepted = 0
  for (let i = 0; i < 2; i++) {
    const pending = await signIn(a, email)
    if (!(pending.body as { twoFactorRedirect?: boolean }).twoFactorRedirect)
      throw new Error('sign-in did not ask for the second factor')
    const res = (await api.verifyTOTP!({
      body: { code: one },
      headers: new Headers({ cookie: pending.cookie }),
      asResponse: true,
    })) as Response
    if (res.status === 200 && res.headers.getSetCookie().some((c) => c.includes('session_token=')))
      accepted++
  }
  print('totp', { contender: 'better-auth', sameCodeSignIns: 2, accepted })
}

/** better-auth's rate limiter (in Redis): 200 failed sign-ins, a new X-Forwarded-For each. */
async function betterAuthRateLimit(redis: Redis) {
  const a = await auth(redis, {
    rateLimit: { enabled: true, storage: 'secondary-storage' },
    trustedOrigins: [BASE],
  })
  const attempt = (ip: string) =>
    a.handler(
      new Request(`${BASE}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: BASE, 'x-forwarded-for': ip },
        body: JSON.stringify({ email: 'nobody@bench.test', password: 'wrong-password' }),
      }),
    )
  let limitedSpoofed = 0
  for (let i = 0; i < 200; i++)
    if ((await attempt(`10.0.${i >> 8}.${i & 255}`)).status === 429) limitedSpoofed++
  let limitedSame = 0
  for (let i = 0; i < 200; i++) if ((await attempt('10.1.0.1')).status === 429) limitedSame++
  print('rate-limit', {
    contender: 'better-auth',
    rule: 'sign-in: 3 per 10 s (its default)',
    requests: 200,
    limitedWithNewForwardedForEach: limitedSpoofed,
    limitedWithOneForwardedFor: limitedSame,
  })
}

/** A session revoked from another device, read with and without better-auth's cookie cache. */
async function betterAuthRevocation(redis: Redis) {
  const out: Record<string, boolean> = {}
  for (const cache of [false, true]) {
    const a = await auth(redis, { session: { cookieCache: { enabled: cache, maxAge: 300 } } })
    const email = await newUser(a)
    const phone = await signIn(a, email)
    const laptop = await signIn(a, email)
    const headers = (c: string) => new Headers({ cookie: c })
    // the cookie cache is set by a session read: the phone reads once before the revocation
    const read = await a.api.getSession({ headers: headers(phone.cookie), asResponse: true })
    const phoneJar = [phone.cookie, cookieHeader(read.headers.getSetCookie())]
      .filter(Boolean)
      .join('; ')
    await a.api.revokeOtherSessions({ headers: headers(laptop.cookie) })
    const after = await a.api.getSession({ headers: headers(phoneJar) })
    out[cache ? 'cookieCache300s' : 'noCookieCache'] = after !== null
  }
  print('revocation', { contender: 'better-auth', revokedSessionStillSignedIn: out })
}

/** Sliding expiry: expiresIn 3 s, refreshed after 1 s; read every 1.2 s for 10 s. */
async function betterAuthLifetime(redis: Redis) {
  const a = await auth(redis, { session: { expiresIn: 3, updateAge: 1 } })
  const { cookie } = await signIn(a, await newUser(a))
  const started = Date.now()
  let alive = true
  while (alive && Date.now() - started < 10_000) {
    await new Promise((r) => setTimeout(r, 1200))
    alive = (await a.api.getSession({ headers: new Headers({ cookie }) })) !== null
  }
  print('lifetime', {
    contender: 'better-auth',
    expiresInSeconds: 3,
    signedInAfterSeconds: Math.round((Date.now() - started) / 1000),
    alive,
  })
}

try {
  const server = await startRedis()
  const redis = new Redis(server.url)
  await betterAuthIndex(redis)
  await thisIndex(server.url)
  await betterAuthTotp(redis)
  await betterAuthRateLimit(redis)
  await betterAuthRevocation(redis)
  await betterAuthLifetime(redis)
  await atRest(redis, server.url)
  redis.disconnect()
} finally {
  await stopAll()
}
