import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { Hono } from 'hono'
import { StoreError, session, type Session, type SessionEnv } from '../../src/index.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { CookieJar, KEY_A, send, sessionApp } from '../helpers/session-app.js'

/** A memory store that can be switched to failing or hanging, like a Redis that went away. */
function switchableStore() {
  const inner = memoryStore()
  let mode: 'up' | 'down' | 'hang' = 'up'
  const store = new Proxy(inner, {
    get(target, prop) {
      const fn = target[prop as keyof Store] as (...a: unknown[]) => Promise<unknown>
      return (...args: unknown[]) => {
        if (mode === 'down') return Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379'))
        if (mode === 'hang') return new Promise(() => {})
        return fn.apply(target, args)
      }
    },
  }) as Store
  return { store, set: (m: typeof mode) => (mode = m) }
}

describe('store failure policy', () => {
  it('fail-closed (default): 503 with Retry-After and a clear JSON body, no raw error text', async () => {
    const { store, set } = switchableStore()
    const app = sessionApp({ store })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    const cookie = jar.cookies.get('__Host-session')
    set('down')
    const res = await send(app, jar, 'GET', '/get/a')
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = await res.text()
    expect(JSON.parse(body)).toEqual({
      error: 'Session store unavailable',
      code: 'ERR_SESSION_STORE',
    })
    expect(body).not.toContain('ECONNREFUSED')
    // the cookie is left alone: the session is still valid once the store is back
    expect(jar.cookies.get('__Host-session')).toBe(cookie)
    set('up')
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 1 })
  })

  it('fail-closed: a failing write answers 503 instead of pretending success', async () => {
    const { store, set } = switchableStore()
    const app = sessionApp({ store })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    set('down')
    expect((await send(app, jar, 'POST', '/set/b', 2)).status).toBe(503)
    expect((await send(app, new CookieJar(), 'POST', '/set/b', 2)).status).toBe(503)
  })

  it('a hanging store is cut off at storeTimeoutMs', async () => {
    const { store, set } = switchableStore()
    const app = sessionApp({ store, storeTimeoutMs: 100 })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    set('hang')
    const started = Date.now()
    const res = await send(app, jar, 'GET', '/get/a')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'ERR_SESSION_STORE_TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(2000) // bounded; the exact figure is not asserted
  })

  it('one deadline per store call: a store that bounds its own calls gets no second timer', async () => {
    // the memory store declares it (timeoutMs 0: it never waits on I/O); the proxy hides it
    const own = memoryStore()
    const { store: undeclared } = switchableStore()
    expect(own.timeoutMs).toBe(0)
    expect(typeof undeclared.timeoutMs).not.toBe('number')
    const timersPerRequest = async (store: Store, storeTimeoutMs?: number) => {
      const app = sessionApp({ store, storeTimeoutMs })
      const jar = new CookieJar()
      expect((await send(app, jar, 'POST', '/set/a', 1)).status).toBe(200)
      const spy = vi.spyOn(globalThis, 'setTimeout')
      try {
        expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 1 })
        return spy.mock.calls.length
      } finally {
        spy.mockRestore()
      }
    }
    expect(await timersPerRequest(own)).toBe(0)
    // a store that says nothing is bounded by the middleware: one timer for its one call
    expect(await timersPerRequest(undeclared)).toBe(1)
    // a bound looser than storeTimeoutMs does not count: the middleware's timer applies
    const loose = new Proxy(own, {
      get: (target, prop) => {
        if (prop === 'timeoutMs') return 5000
        const value = target[prop as keyof Store]
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    expect(await timersPerRequest(loose, 100)).toBe(1)
  })

  it('fail-open: the request is served as anonymous and the stored session is left alone', async () => {
    const { store, set } = switchableStore()
    const events: string[] = []
    const app = sessionApp({
      store,
      onStoreError: 'fail-open',
      onEvent: (e) => events.push(e.type),
    })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    const cookie = jar.cookies.get('__Host-session')
    set('down')
    const res = await send(app, jar, 'GET', '/info')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ info: null, isNew: true })
    expect(jar.cookies.get('__Host-session')).toBe(cookie)
    expect(events).toContain('store-error')
    set('up')
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 1 })
  })

  it('fail-open: a write that cannot be stored answers 503, never a 200 that claims it', async () => {
    const { store, set } = switchableStore()
    const app = sessionApp({ store, onStoreError: 'fail-open' })
    app.post('/read-then-write', async (c) => {
      const s = c.get('session')
      s.set('b', ((await s.get('a')) as number | undefined) ?? 0)
      return c.json({ ok: true })
    })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    const cookie = jar.cookies.get('__Host-session')
    set('down')
    const res = await send(app, jar, 'POST', '/read-then-write')
    expect(res.status).toBe(503)
    expect(jar.cookies.get('__Host-session')).toBe(cookie)
    set('up')
    expect(await (await send(app, jar, 'GET', '/get/b')).json()).toEqual({ value: null })
  })

  it("StoreError renders through Hono's error handler", async () => {
    const err = new StoreError('x')
    const res = err.getResponse()
    expect(res.status).toBe(503)
    expect(err.code).toBe('ERR_SESSION_STORE')
  })
})

describe('types', () => {
  it('types c.get("session") from SessionEnv', () => {
    type Data = { count: number; name: string }
    const app = new Hono<SessionEnv<Data>>()
    app.use(session<Data>({ keys: [KEY_A], store: memoryStore() }))
    app.get('/', async (c) => {
      const s = c.get('session')
      expectTypeOf(s).toEqualTypeOf<Session<Data>>()
      expectTypeOf(s.get('count')).toEqualTypeOf<Promise<number | undefined>>()
      expectTypeOf(s.all()).toEqualTypeOf<Promise<Partial<Data>>>()
      // @ts-expect-error unknown field
      s.set('missing', 1)
      // @ts-expect-error wrong value type
      s.set('count', 'one')
      s.set('name', 'x')
      return c.text('ok')
    })
  })
})
