/**
 * Periodic rotation with a grace window (SECURITY.md L3, attacks 3 and 5), against the memory
 * store and a real Redis.
 */
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session, type SessionEnv } from '../../src/index.js'
import type { Store } from '../../src/store/types.js'
import { stopAll } from '../helpers/redis.js'
import { acrossStores, IOREDIS, MEMORY } from '../helpers/stores.js'
import { CookieJar, KEY_A, fakeClock, send } from '../helpers/session-app.js'

afterAll(stopAll)

function rotatingApp(store: Store, clock: ReturnType<typeof fakeClock>, events: string[] = []) {
  const app = new Hono<SessionEnv>()
  app.use(
    session({
      keys: [KEY_A],
      store,
      now: clock.now,
      rotateEvery: 900,
      rotationGrace: 30,
      onEvent: (e) => events.push(e.type),
    }),
  )
  app.post('/login', (c) => {
    c.get('session').authenticate('alice', { roles: ['user'] })
    return c.json({ ok: true })
  })
  app.get('/me', async (c) => {
    const info = await c.get('session').info()
    return info ? c.json({ user: info.userId }) : c.json({ error: 'no session' }, 401)
  })
  app.put('/field/:n', async (c) => {
    const s = c.get('session')
    if (!(await s.info())) return c.json({ error: 'no session' }, 401)
    s.set(c.req.param('n'), c.req.param('n'))
    return c.json({ ok: true })
  })
  app.get('/fields', async (c) => c.json(await c.get('session').all()))
  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.json({ ok: true })
  })
  return app
}

const withCookie = (app: Hono<SessionEnv>, cookie: string, method: string, path: string) =>
  app.request(`http://localhost${path}`, {
    method,
    headers: { Cookie: cookie, Origin: 'http://localhost' },
  })

acrossStores([MEMORY, IOREDIS], (current) => {
  describe('rotation with a grace window', () => {
    let store: Store
    beforeAll(() => {
      store = current()
    })

    it('L3: rotates after rotateEvery; the previous token works inside the grace window only', async () => {
      const clock = fakeClock(Date.now())
      const events: string[] = []
      const app = rotatingApp(store, clock, events)
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login')
      const first = jar.header()
      clock.advance(899_000)
      await send(app, jar, 'GET', '/me')
      expect(jar.header()).toBe(first) // not yet due
      clock.advance(2000)
      expect((await send(app, jar, 'GET', '/me')).status).toBe(200)
      const second = jar.header()
      expect(second).not.toBe(first)
      expect(events).toContain('rotated')
      // in flight with the previous token: served, and its response leaves the cookie alone
      clock.advance(10_000)
      const inFlight = await withCookie(app, first, 'GET', '/me')
      expect(inFlight.status).toBe(200)
      expect(inFlight.headers.get('set-cookie')).toBeNull()
      // a write through the previous token lands in the rotated session
      expect((await withCookie(app, first, 'PUT', '/field/late')).status).toBe(200)
      expect(await (await withCookie(app, second, 'GET', '/fields')).json()).toEqual({
        late: 'late',
      })
      // after the window the previous token is dead; the new one lives on
      clock.advance(21_000)
      expect((await withCookie(app, first, 'GET', '/me')).status).toBe(401)
      expect((await withCookie(app, second, 'GET', '/me')).status).toBe(200)
    })

    it('attack 5: 50 concurrent requests with the old token at the rotation moment all succeed, then all fail', async () => {
      const clock = fakeClock(Date.now())
      const app = rotatingApp(store, clock)
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login')
      const old = jar.header()
      clock.advance(901_000)
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => withCookie(app, old, 'PUT', `/field/f${i}`)),
      )
      expect(results.map((r) => r.status)).toEqual(Array(50).fill(200))
      const newCookies = results.map((r) => r.headers.get('set-cookie')).filter(Boolean)
      expect(newCookies).toHaveLength(1) // exactly one request rotated
      const fresh = newCookies[0]!.split(';')[0]!
      // no write lost: all 50 fields are in the rotated session
      const fields = (await (await withCookie(app, fresh, 'GET', '/fields')).json()) as object
      expect(Object.keys(fields)).toHaveLength(50)
      clock.advance(31_000)
      const late = await Promise.all(
        Array.from({ length: 50 }, () => withCookie(app, old, 'GET', '/me')),
      )
      expect(late.map((r) => r.status)).toEqual(Array(50).fill(401))
      expect((await withCookie(app, fresh, 'GET', '/me')).status).toBe(200)
    })

    it('attack 3: replay after logout, after rotation past the window, after expiry', async () => {
      const clock = fakeClock(Date.now())
      const app = rotatingApp(store, clock)
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login')
      const beforeRotation = jar.header()
      clock.advance(901_000)
      await send(app, jar, 'GET', '/me')
      clock.advance(31_000)
      expect((await withCookie(app, beforeRotation, 'GET', '/me')).status).toBe(401)
      const current = jar.header()
      // logout through a token still in its grace window ends the rotated session too
      const jar2 = new CookieJar()
      await send(app, jar2, 'POST', '/login')
      const t0 = jar2.header()
      clock.advance(901_000)
      await send(app, jar2, 'GET', '/me')
      expect((await withCookie(app, t0, 'POST', '/logout')).status).toBe(200)
      expect((await withCookie(app, jar2.header(), 'GET', '/me')).status).toBe(401)
      // expiry: a day idle
      clock.advance(86_401_000)
      expect((await withCookie(app, current, 'GET', '/me')).status).toBe(401)
    })
  })
})
