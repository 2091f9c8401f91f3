import { Hono, type ExecutionContext } from 'hono'
import { requireSession, session, type SessionEnv } from 'hono-redis-session'
import { upstashStore } from 'hono-redis-session/upstash'

export interface Bindings {
  SESSION_KEY: string
  UPSTASH_REDIS_REST_URL: string
  UPSTASH_REDIS_REST_TOKEN: string
  /** `1` in .dev.vars only: plain-HTTP cookies for `wrangler pages dev` on localhost. */
  LOCAL_DEV?: string
}

/** Demo users; a real app checks a password hash from its database. */
const USERS: Record<string, string> = { alice: 'alice-password' }

function createApp(env: Bindings) {
  const app = new Hono<SessionEnv<{ notes: string[] }>>().basePath('/api')
  app.use(
    session({
      keys: [{ kid: 'k1', secret: env.SESSION_KEY }],
      store: upstashStore({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN }),
      insecureLocalhost: env.LOCAL_DEV === '1', // hosts other than localhost still get 400
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

// Bindings arrive with the first request: build the app then, once per isolate.
let app: ReturnType<typeof createApp> | undefined

/** The parts of the Pages Functions context this file uses. */
interface PagesContext extends ExecutionContext {
  request: Request
  env: Bindings
}

/** Every `/api/*` request; the rest are the static files of `public/`. */
export const onRequest = (context: PagesContext) => {
  app ??= createApp(context.env)
  return app.fetch(context.request, context.env, context)
}
