import { Hono } from 'hono'
import { session, type SessionEnv } from '../../src/index.js'
import type { SessionOptions } from '../../src/runtime.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'

export const KEY_A = { kid: 'a', secret: 'A'.repeat(42) + 'A' } // 43 chars -> 32 bytes
export const KEY_B = { kid: 'b', secret: 'B'.repeat(42) + 'A' }

/** A store wrapper that counts calls per operation (the "round trips" of the memory store). */
export function countingStore(inner: Store = memoryStore()): Store & {
  calls: Record<string, number>
  total(): number
  reset(): void
} {
  const calls: Record<string, number> = {}
  const extra = {
    calls,
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    reset: () => {
      for (const k of Object.keys(calls)) delete calls[k]
    },
  }
  return new Proxy(inner, {
    get(target, prop) {
      if (prop in extra) return extra[prop as keyof typeof extra]
      const value = target[prop as keyof Store]
      if (typeof value !== 'function' || prop === 'close') return value
      return (...args: unknown[]) => {
        calls[prop as string] = (calls[prop as string] ?? 0) + 1
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  }) as Store & typeof extra
}

/** A settable clock. */
export function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) }
}

/** A minimal cookie jar for `app.request`: keeps what Set-Cookie says, honours Max-Age=0. */
export class CookieJar {
  readonly cookies = new Map<string, string>()
  readonly lastSetCookie: string[] = []
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  take(res: Response): Response {
    this.lastSetCookie.length = 0
    for (const line of res.headers.getSetCookie()) {
      this.lastSetCookie.push(line)
      const [pair, ...attrs] = line.split(';').map((s) => s.trim())
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const value = pair!.slice(eq + 1)
      const maxAge = attrs.find((a) => a.toLowerCase().startsWith('max-age='))
      if (maxAge && Number(maxAge.split('=')[1]) <= 0) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return res
  }
}

/** A test app exposing the session API over HTTP. */
export function sessionApp(options: Partial<SessionOptions> = {}) {
  const app = new Hono<SessionEnv<Record<string, unknown>>>()
  app.use(session({ keys: [KEY_A], ...options }))
  app.get('/get/:name', async (c) =>
    c.json({ value: (await c.get('session').get(c.req.param('name'))) ?? null }),
  )
  app.get('/all', async (c) => c.json(await c.get('session').all()))
  app.get('/has/:name', async (c) =>
    c.json({ has: await c.get('session').has(c.req.param('name')) }),
  )
  app.post('/set/:name', async (c) => {
    c.get('session').set(c.req.param('name'), await c.req.json())
    return c.json({ ok: true })
  })
  app.post('/increment/:name', async (c) => {
    const by = c.req.query('by')
    return c.json({ value: await c.get('session').increment(c.req.param('name'), Number(by ?? 1)) })
  })
  app.post('/delete/:name', (c) => {
    c.get('session').delete(c.req.param('name'))
    return c.json({ ok: true })
  })
  app.post('/flash/:name', async (c) => {
    c.get('session').flash(c.req.param('name'), await c.req.json())
    return c.json({ ok: true })
  })
  app.get('/flash/:name', async (c) =>
    c.json({ value: (await c.get('session').flash(c.req.param('name'))) ?? null }),
  )
  app.post('/regenerate', (c) => {
    c.get('session').regenerate()
    return c.json({ ok: true })
  })
  app.post('/login/:user', (c) => {
    c.get('session').authenticate(c.req.param('user'), { roles: ['user'] })
    return c.json({ ok: true })
  })
  app.post('/destroy', (c) => {
    c.get('session').destroy()
    return c.json({ ok: true })
  })
  app.get('/info', async (c) =>
    c.json({ info: await c.get('session').info(), isNew: c.get('session').isNew }),
  )
  app.get('/untouched', (c) => c.text('hello'))
  return app
}

/** Sends a request with the jar's cookies and stores the answer's cookies. */
export async function send(
  app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> },
  jar: CookieJar,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = { Origin: 'http://localhost' }
  if (jar.cookies.size) headers.Cookie = jar.header()
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const res = await app.request(`http://localhost${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return jar.take(res)
}
