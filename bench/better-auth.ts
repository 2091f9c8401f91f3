/**
 * better-auth as a bench contender: its own session layer, as its docs set it up for Redis. The
 * sessions live in Redis through the official `@better-auth/redis-storage` (ioredis, key prefix
 * `ba:`), users and their credential accounts in an in-memory SQLite database (better-sqlite3).
 * The password hash is the identity on purpose (this project's bench login checks no password
 * either): a sign-in costs what better-auth's session handling costs, not a slow hash.
 */
import { redisStorage } from '@better-auth/redis-storage'
import { betterAuth, type BetterAuthOptions } from 'better-auth'
import Database from 'better-sqlite3'
import { Hono } from 'hono'
import { Redis } from 'ioredis'

/** The key prefix better-auth's Redis storage writes here (sessions and per-user lists). */
export const BETTER_AUTH_PREFIX = 'ba:'
/** Users the login variant signs in, in turn (signed up at start: 100 keep the start well inside the bench's 30 s). */
const LOGIN_USERS = 100
const PASSWORD = 'bench-password'

/** The options: sessions in Redis only (better-auth's default once a secondary storage is set). */
export function betterAuthOptions(redis: Redis): BetterAuthOptions {
  return {
    database: new Database(':memory:'),
    secondaryStorage: redisStorage({ client: redis, keyPrefix: BETTER_AUTH_PREFIX }),
    baseURL: 'http://127.0.0.1',
    secret: 'bench-better-auth-secret-0123456789abcdef',
    telemetry: { enabled: false },
    logger: { disabled: true },
    // the server-side API calls below skip the HTTP rate limiter anyway; said here to be plain
    rateLimit: { enabled: false },
    emailAndPassword: {
      enabled: true,
      autoSignIn: false,
      // trivial on purpose: the comparison is about sessions, not password hashing
      password: {
        hash: async (password) => password,
        verify: async ({ hash, password }) => hash === password,
      },
    },
    // the bench's counter, a field of the session record (stored with it in Redis)
    session: { additionalFields: { count: { type: 'number', defaultValue: 0, input: false } } },
  }
}

/** A better-auth instance with its tables created and `users` users signed up (no sessions). */
export async function makeBetterAuth(redis: Redis, users = 0) {
  const auth = betterAuth(betterAuthOptions(redis))
  // creates the user, account, session and verification tables in the empty database
  await (await auth.$context).runMigrations()
  for (let i = 0; i < users; i++) await signUp(auth, `user${i}@bench.test`)
  return auth
}
type Auth = Awaited<ReturnType<typeof makeBetterAuth>>

async function signUp(auth: Auth, email: string) {
  await auth.api.signUpEmail({ body: { email, password: PASSWORD, name: email.split('@')[0]! } })
}

/** Signs `email` in: the Response better-auth answers (its Set-Cookie carries the session). */
export function signIn(auth: Auth, email: string, headers = new Headers()) {
  return auth.api.signInEmail({ body: { email, password: PASSWORD }, headers, asResponse: true })
}

/** The bench routes (see server.ts) on better-auth's server API. */
export async function betterAuthContender(redisUrl: string) {
  const redis = new Redis(redisUrl)
  const auth = await makeBetterAuth(redis, LOGIN_USERS)
  const app = new Hono()
  let tick = 0
  let setups = 0
  // a signed-in session of a user of its own, count = 0 (better-auth sessions need a user)
  app.get('/setup', async () => {
    const email = `setup${setups++}@bench.test`
    await signUp(auth, email)
    return signIn(auth, email)
  })
  // a signed-in session read: getSession, then a value of the session
  app.get('/read', async (c) => {
    const s = await auth.api.getSession({ headers: c.req.raw.headers })
    if (!s) return c.json({ error: 'no session' }, 401)
    return c.json({ count: (s.session as { count?: number }).count })
  })
  app.post('/login', (c) =>
    signIn(auth, `user${tick++ % LOGIN_USERS}@bench.test`, c.req.raw.headers),
  )
  app.post('/logout', (c) => auth.api.signOut({ headers: c.req.raw.headers, asResponse: true }))
  app.get('/me', async (c) =>
    c.json({ user: (await auth.api.getSession({ headers: c.req.raw.headers }))?.user.id ?? null }),
  )
  return app
}
