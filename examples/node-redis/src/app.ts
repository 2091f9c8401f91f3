import { Hono } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { requireSession, session, type SessionEnv, type Store } from 'hono-redis-session'
import { activeSessionsProbe, metricsMiddleware, metricsRecorder } from 'hono-redis-session/metrics'
import { prometheusExporter } from 'hono-redis-session/metrics/prometheus'
import { Registry } from 'prom-client'

type Data = { notes: string[] }

/** Demo users; a real app checks a password hash (argon2, scrypt) from its database. */
const USERS: Record<string, string> = { alice: 'alice-password' }

export interface AppOptions {
  store: Store
  /** A 32-byte secret, base64url (`npx hono-redis-session keygen` prints `kid:secret`). */
  sessionKey: string
  /** Bearer token of the scraper; without it, no `/metrics`. */
  metricsToken?: string
}

export function createApp({ store, sessionKey, metricsToken }: AppOptions) {
  const metrics = metricsRecorder()
  const registry = new Registry()
  prometheusExporter(metrics, { registry, activeSessions: activeSessionsProbe(store) })

  const app = new Hono<SessionEnv<Data>>()
  // Mounted before metricsMiddleware: scrapes are not counted as traffic.
  if (metricsToken) {
    app.get('/metrics', bearerAuth({ token: metricsToken }), async (c) =>
      c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType }),
    )
  }
  app.use(metricsMiddleware(metrics))
  app.use(
    session({
      keys: [{ kid: 'k1', secret: sessionKey }],
      store,
      onEvent: metrics.onEvent,
      // Plain HTTP on localhost while developing; behind TLS in production.
      insecureLocalhost: process.env.NODE_ENV !== 'production',
    }),
  )

  app.post('/login', async (c) => {
    const { user, password } = await c.req.json<{ user: string; password: string }>()
    if (USERS[user] === undefined || USERS[user] !== password) {
      return c.json({ error: 'wrong user or password' }, 401)
    }
    c.get('session').authenticate(user, { roles: ['user'], amr: ['pwd'] })
    return c.json({ user })
  })

  app.use('/notes', requireSession()) // 401 ERR_SESSION_REQUIRED without a signed-in session

  app.post('/notes', async (c) => {
    const s = c.get('session')
    const notes = [...((await s.get('notes')) ?? []), await c.req.text()]
    s.set('notes', notes)
    return c.json({ notes })
  })

  app.get('/notes', async (c) => {
    const s = c.get('session')
    return c.json({ user: (await s.info())?.userId, notes: (await s.get('notes')) ?? [] })
  })

  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.json({ ok: true })
  })

  return app
}
