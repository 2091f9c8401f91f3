import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { session } from '../../src/index.js'
import { memoryStore } from '../../src/store/memory.js'
import {
  CookieJar,
  KEY_A,
  countingStore,
  fakeClock,
  send,
  sessionApp,
} from '../helpers/session-app.js'

describe('session middleware: data across requests', () => {
  it('sets, gets, deletes fields with real cookies', async () => {
    const app = sessionApp()
    const jar = new CookieJar()
    expect((await send(app, jar, 'POST', '/set/a', { n: 1, s: 'x' })).status).toBe(200)
    expect(jar.cookies.has('__Host-session')).toBe(true)
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({
      value: { n: 1, s: 'x' },
    })
    await send(app, jar, 'POST', '/set/b', [1, 2, 3])
    expect(await (await send(app, jar, 'GET', '/all')).json()).toEqual({
      a: { n: 1, s: 'x' },
      b: [1, 2, 3],
    })
    expect(await (await send(app, jar, 'GET', '/has/b')).json()).toEqual({ has: true })
    await send(app, jar, 'POST', '/delete/a')
    expect(await (await send(app, jar, 'GET', '/all')).json()).toEqual({ b: [1, 2, 3] })
    expect(await (await send(app, jar, 'GET', '/has/a')).json()).toEqual({ has: false })
  })

  it('flash values are read once', async () => {
    const app = sessionApp()
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/flash/notice', 'saved')
    expect(await (await send(app, jar, 'GET', '/all')).json()).toEqual({})
    expect(await (await send(app, jar, 'GET', '/flash/notice')).json()).toEqual({ value: 'saved' })
    expect(await (await send(app, jar, 'GET', '/flash/notice')).json()).toEqual({ value: null })
  })

  it('reads its own writes within a request and stays typed', async () => {
    const app = new Hono<import('../../src/index.js').SessionEnv<{ n: number }>>()
    app.use(session({ keys: [KEY_A] }))
    app.post('/', async (c) => {
      const s = c.get('session')
      s.set('n', 41)
      s.set('n', ((await s.get('n')) ?? 0) + 1)
      return c.json({ n: await s.get('n'), isNew: s.isNew })
    })
    const res = await app.request('http://localhost/', { method: 'POST' })
    expect(await res.json()).toEqual({ n: 42, isNew: true })
  })

  it('only changed fields reach the store', async () => {
    const inner = memoryStore()
    const patches: unknown[] = []
    const spying = new Proxy(inner, {
      get(target, prop) {
        const value = target[prop as keyof typeof target] as (...a: unknown[]) => unknown
        if (typeof value !== 'function') return value // e.g. the store's own timeoutMs
        if (prop !== 'commit') return value.bind(target)
        return (...args: unknown[]) => (patches.push(args[1]), value.apply(target, args))
      },
    })
    const app = sessionApp({ store: spying })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    await send(app, jar, 'POST', '/set/b', 2)
    expect(patches).toEqual([{ set: { b: '2' }, del: [] }])
  })
})

describe('laziness and round trips (counted with a wrapping store)', () => {
  it('a request with no cookie that never touches the session: no store call, no cookie', async () => {
    const store = countingStore()
    const app = sessionApp({ store })
    const res = await app.request('http://localhost/untouched')
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(res.headers.get('cache-control')).toBeNull()
    expect(store.total()).toBe(0)
  })

  it('a request with a valid cookie that never touches the session: no store call', async () => {
    const store = countingStore()
    const app = sessionApp({ store })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    store.reset()
    const res = await send(app, jar, 'GET', '/untouched')
    expect(res.status).toBe(200)
    expect(store.total()).toBe(0)
  })

  it('read = 1 call, blind write = 1 call, read-modify-write = 2, new session = 1', async () => {
    const store = countingStore()
    const app = sessionApp({ store })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    expect(store.calls).toEqual({ create: 1 })
    store.reset()
    await send(app, jar, 'GET', '/get/a')
    expect(store.calls).toEqual({ load: 1 })
    store.reset()
    await send(app, jar, 'POST', '/set/b', 2)
    expect(store.calls).toEqual({ commit: 1 })
  })

  it('login from an anonymous session costs 2 calls and keeps its data', async () => {
    const store = countingStore()
    const app = sessionApp({ store })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/cart', ['book'])
    store.reset()
    await send(app, jar, 'POST', '/login/alice')
    expect(store.total()).toBe(2)
    expect(await (await send(app, jar, 'GET', '/get/cart')).json()).toEqual({ value: ['book'] })
  })
})

describe('increment()', () => {
  it('counts from 0 on a new session (1 call: create), then 1 load per increment', async () => {
    const store = countingStore()
    const app = sessionApp({ store })
    app.post('/twice', async (c) => {
      const s = c.get('session')
      const a = await s.increment('n')
      return c.json({ a, read: await s.get('n'), all: await s.all() })
    })
    const jar = new CookieJar()
    expect(await (await send(app, jar, 'POST', '/increment/n')).json()).toEqual({ value: 1 })
    expect(store.calls).toEqual({ create: 1 })
    store.reset()
    expect(await (await send(app, jar, 'POST', '/increment/n?by=5')).json()).toEqual({ value: 6 })
    expect(store.calls).toEqual({ load: 1 })
    // later reads in the same request are free, and see the new value
    store.reset()
    expect(await (await send(app, jar, 'POST', '/twice')).json()).toEqual({
      a: 7,
      read: 7,
      all: { n: 7 },
    })
    expect(store.calls).toEqual({ load: 1 })
  })

  it('loses no count under 50 concurrent requests', async () => {
    const app = sessionApp()
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/increment/n')
    const cookie = jar.header()
    const values = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const res = await app.request('http://localhost/increment/n', {
          method: 'POST',
          headers: { Cookie: cookie, Origin: 'http://localhost' },
        })
        return ((await res.json()) as { value: number }).value
      }),
    )
    expect(new Set(values).size).toBe(50)
    expect(await (await send(app, jar, 'GET', '/get/n')).json()).toEqual({ value: 51 })
  })

  it('after a set() of the same field, and with encryptAtRest, it reads and writes locally', async () => {
    const app = sessionApp({ encryptAtRest: true })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/n', 10)
    expect(await (await send(app, jar, 'POST', '/increment/n?by=2')).json()).toEqual({ value: 12 })
    expect(await (await send(app, jar, 'GET', '/get/n')).json()).toEqual({ value: 12 })
    const plain = sessionApp()
    plain.post('/set-then-increment', async (c) => {
      const s = c.get('session')
      s.set('n', 40)
      return c.json({ value: await s.increment('n', 2) })
    })
    const res = await send(plain, new CookieJar(), 'POST', '/set-then-increment')
    expect(await res.json()).toEqual({ value: 42 })
  })

  it('refuses a field that is not an integer, a bad step and an unsafe result, keeping the data', async () => {
    for (const encryptAtRest of [false, true]) {
      const app = sessionApp({ encryptAtRest })
      const errors: string[] = []
      app.onError((err, c) => {
        errors.push((err as { code?: string }).code ?? err.name)
        return c.json({ code: (err as { code?: string }).code }, 500)
      })
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/set/s', 'seven')
      await send(app, jar, 'POST', '/set/big', Number.MAX_SAFE_INTEGER)
      expect((await send(app, jar, 'POST', '/increment/s')).status).toBe(500)
      expect((await send(app, jar, 'POST', '/increment/big')).status).not.toBe(200)
      expect((await send(app, jar, 'POST', '/increment/n?by=1.5')).status).not.toBe(200)
      expect(errors).toEqual(['ERR_SESSION_STATE', expect.any(String), 'ERR_SESSION_INPUT'])
      expect(await (await send(app, jar, 'GET', '/all')).json()).toEqual({
        s: 'seven',
        big: Number.MAX_SAFE_INTEGER,
      })
    }
  })
})

describe('expiry with an injected clock', () => {
  const HOUR = 3600_000
  const setup = () => {
    const clock = fakeClock()
    const store = memoryStore()
    const app = sessionApp({ store, now: clock.now, idleTimeout: 3600, absoluteTimeout: 4 * 3600 })
    return { clock, app, jar: new CookieJar() }
  }
  const maxAge = (jar: CookieJar) => Number(/Max-Age=(\d+)/.exec(jar.lastSetCookie.join())?.[1])

  it('idle timeout: gone after an hour without requests', async () => {
    const { clock, app, jar } = setup()
    await send(app, jar, 'POST', '/set/a', 1)
    expect(maxAge(jar)).toBe(3600)
    clock.advance(HOUR - 1)
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 1 })
    clock.advance(HOUR + 1)
    const res = await send(app, jar, 'GET', '/get/a')
    expect(await res.json()).toEqual({ value: null })
    expect(jar.cookies.size).toBe(0)
  })

  it('slides only after extendAfter, moving Max-Age and the stored deadline together', async () => {
    const { clock, app, jar } = setup()
    await send(app, jar, 'POST', '/set/a', 1)
    clock.advance(HOUR / 4)
    await send(app, jar, 'GET', '/get/a')
    expect(jar.lastSetCookie).toEqual([]) // not due yet: nothing reissued
    clock.advance(HOUR / 4 + 1000)
    const extendedAt = clock.now()
    await send(app, jar, 'GET', '/get/a')
    expect(maxAge(jar)).toBe(3600)
    clock.advance(1000)
    const { info } = (await (await send(app, jar, 'GET', '/info')).json()) as {
      info: { expiresAt: number }
    }
    expect(info.expiresAt).toBe(extendedAt + HOUR)
  })

  it('absolute timeout: never extended past it, then gone', async () => {
    const { clock, app, jar } = setup()
    await send(app, jar, 'POST', '/set/a', 1)
    const start = clock.now()
    for (let i = 0; i < 7; i++) {
      clock.advance(HOUR / 2 + 1)
      expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 1 })
      // every reissued cookie ends at or before the absolute deadline
      if (jar.lastSetCookie.length)
        expect(clock.now() + maxAge(jar) * 1000).toBeLessThanOrEqual(start + 4 * HOUR)
    }
    const { info } = (await (await send(app, jar, 'GET', '/info')).json()) as {
      info: { expiresAt: number }
    }
    expect(info.expiresAt).toBeLessThanOrEqual(start + 4 * HOUR)
    clock.set(start + 4 * HOUR)
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: null })
  })
})

describe('regenerate and destroy', () => {
  it('regenerate() keeps the data and kills the old token', async () => {
    const app = sessionApp()
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 'kept')
    const old = new CookieJar()
    old.cookies.set('__Host-session', jar.cookies.get('__Host-session')!)
    await send(app, jar, 'POST', '/regenerate')
    expect(jar.cookies.get('__Host-session')).not.toBe(old.cookies.get('__Host-session'))
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 'kept' })
    expect(await (await send(app, old, 'GET', '/get/a')).json()).toEqual({ value: null })
  })

  it('regenerate() after a read in the same request', async () => {
    const app = sessionApp()
    app.post('/read-then-regen', async (c) => {
      const v = await c.get('session').get('a')
      c.get('session').regenerate()
      return c.json({ v })
    })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 'x')
    const before = jar.cookies.get('__Host-session')
    expect(await (await send(app, jar, 'POST', '/read-then-regen')).json()).toEqual({ v: 'x' })
    const old = new CookieJar()
    old.cookies.set('__Host-session', before!)
    expect(await (await send(app, old, 'GET', '/get/a')).json()).toEqual({ value: null })
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 'x' })
  })

  it('destroy() clears the cookie and deletes the entry', async () => {
    const store = countingStore()
    const app = sessionApp({ store })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    const token = jar.cookies.get('__Host-session')!
    const res = await send(app, jar, 'POST', '/destroy')
    expect(res.headers.getSetCookie().join()).toMatch(/__Host-session=;.*Max-Age=0/)
    expect(jar.cookies.size).toBe(0)
    const replay = new CookieJar()
    replay.cookies.set('__Host-session', token)
    expect(await (await send(app, replay, 'GET', '/get/a')).json()).toEqual({ value: null })
  })

  it('a handler that throws commits nothing', async () => {
    const store = countingStore()
    const app = sessionApp({ store })
    app.post('/boom', (c) => {
      c.get('session').set('a', 1)
      throw new Error('boom')
    })
    const res = await app.request('http://localhost/boom', { method: 'POST' })
    expect(res.status).toBe(500)
    expect(store.total()).toBe(0)
  })
})

describe('limits and bad input', () => {
  it('rejects reserved and oversized field names and values with 400/413, nothing stored', async () => {
    const store = countingStore()
    const app = sessionApp({ store, limits: { maxFieldBytes: 100 } })
    const jar = new CookieJar()
    expect((await send(app, jar, 'POST', '/set/%24e', 1)).status).toBe(400)
    const big = await send(app, jar, 'POST', '/set/a', 'x'.repeat(200))
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ code: 'ERR_SESSION_LIMIT' })
    expect(store.total()).toBe(0)
  })

  it('refuses "__proto__" as a field name and finds no inherited member as a field', async () => {
    const app = sessionApp()
    const jar = new CookieJar()
    expect((await send(app, jar, 'POST', '/set/__proto__', 1)).status).toBe(400)
    expect((await send(app, jar, 'POST', '/set/a', 1)).status).toBe(200)
    for (const name of ['toString', 'constructor', 'hasOwnProperty']) {
      expect(await (await send(app, jar, 'GET', `/get/${name}`)).json()).toEqual({ value: null })
      expect(await (await send(app, jar, 'GET', `/has/${name}`)).json()).toEqual({ has: false })
    }
    expect(await (await send(app, jar, 'POST', '/increment/valueOf')).json()).toEqual({ value: 1 })
    expect(await (await send(app, jar, 'GET', '/all')).json()).toEqual({ a: 1, valueOf: 1 })
  })

  it('rejects a session over maxSessionBytes at commit with 413 and writes nothing', async () => {
    const store = countingStore()
    const app = sessionApp({ store, limits: { maxFieldBytes: 100, maxSessionBytes: 150 } })
    app.post('/two', async (c) => {
      await c.get('session').get('a')
      c.get('session').set('b', 'y'.repeat(80))
      return c.json({ ok: true })
    })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 'x'.repeat(80))
    store.reset()
    expect((await send(app, jar, 'POST', '/two')).status).toBe(413)
    expect(store.calls.commit).toBeUndefined()
  })

  it('a regeneration refused by the size limit keeps the old session intact', async () => {
    const store = countingStore()
    const app = sessionApp({ store, limits: { maxFieldBytes: 100, maxSessionBytes: 150 } })
    app.post('/grow-and-login', (c) => {
      c.get('session').set('b', 'y'.repeat(80))
      c.get('session').authenticate('alice')
      return c.json({ ok: true })
    })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 'x'.repeat(80))
    const before = jar.header()
    expect((await send(app, jar, 'POST', '/grow-and-login')).status).toBe(413)
    expect(jar.header()).toBe(before)
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 'x'.repeat(80) })
  })

  it('the cookie stays under 4 KiB with the longest user id and method list', async () => {
    const app = sessionApp()
    app.post('/long', (c) => {
      c.get('session').authenticate('u'.repeat(256), {
        amr: Array.from({ length: 8 }, (_, i) => `m${i}`.padEnd(32, 'x')),
      })
      return c.json({ ok: true })
    })
    app.post('/too-many', (c) => {
      c.get('session').authenticate('u', { amr: Array.from({ length: 9 }, () => 'pwd') })
      return c.json({ ok: true })
    })
    const res = await app.request('http://localhost/long', { method: 'POST' })
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!
    expect(cookie.length).toBeLessThan(2048)
    // a method list that could outgrow the cookie is bad input, refused up front (400)
    expect((await app.request('http://localhost/too-many', { method: 'POST' })).status).toBe(400)
  })

  it('validates options at start-up', () => {
    expect(() => session({ keys: [] })).toThrow(/keys/)
    expect(() => session({ keys: [{ kid: 'a', secret: 'c2hvcnQ' }] })).toThrow(/32 bytes/)
    expect(() => session({ keys: [{ kid: 'a', secret: '!!!' }] })).toThrow(/base64url|32 bytes/)
    expect(() => session({ keys: [KEY_A, KEY_A] })).toThrow(/duplicate/)
    expect(() => session({ keys: [KEY_A], idleTimeout: 10, absoluteTimeout: 5 })).toThrow(
      /absoluteTimeout/,
    )
    expect(() => session({ keys: [KEY_A], extendAfter: 2 })).toThrow(/extendAfter/)
    expect(() => session({ keys: [KEY_A], onStoreError: 'maybe' as never })).toThrow(/onStoreError/)
  })
})
