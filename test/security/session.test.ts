import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  requireFreshAuth,
  requirePermission,
  requireRole,
  requireSession,
  session,
  type SessionEnv,
  type SessionOptions,
} from '../../src/index.js'
import { memoryStore } from '../../src/store/memory.js'
import { forEachStore } from '../helpers/stores.js'
import type { LoadResult, Store } from '../../src/store/types.js'
import { CookieJar, KEY_A, fakeClock, send } from '../helpers/session-app.js'

/** An app with guarded routes; `/login/:user?roles=a,b` logs in, `/step-up` completes a 2nd factor. */
function plainGuardedApp(options: Partial<SessionOptions> = {}) {
  const app = new Hono<SessionEnv>()
  app.use(
    session({
      keys: [KEY_A],
      permissions: { admin: ['users:write', 'reports:read'], auditor: ['reports:read'] },
      ...options,
    }),
  )
  app.post('/login/:user', async (c) => {
    const roles = (c.req.query('roles') ?? 'user').split(',')
    c.get('session').authenticate(c.req.param('user'), { roles })
    // a client-supplied "roles" field lands in session data, never in the server-side roles
    c.get('session').set('roles', ['admin'])
    return c.json({ ok: true })
  })
  app.post('/step-up', (c) => {
    c.get('session').stepUp('otp')
    return c.json({ ok: true })
  })
  app.post('/roles', async (c) => {
    c.get('session').setRoles((await c.req.json()) as string[])
    return c.json({ ok: true })
  })
  app.get('/private', requireSession(), (c) => c.text('private'))
  app.get('/admin', requireRole('admin'), (c) => c.text('admin'))
  app.get('/reports', requirePermission('reports:read'), (c) => c.text('reports'))
  app.get('/users', requirePermission('users:write', 'reports:read'), (c) => c.text('users'))
  app.post('/password', requireFreshAuth({ maxAge: 300, methods: ['otp'] }), (c) =>
    c.text('changed'),
  )
  return app
}

forEachStore((newStore) => {
  const guardedApp = (options: Partial<SessionOptions> = {}) =>
    plainGuardedApp({ store: newStore(), ...options })
  describe('access control', () => {
    it('A1: requireSession answers 401 without a session', async () => {
      const app = guardedApp()
      const anon = new CookieJar()
      const res = await send(app, anon, 'GET', '/private')
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ code: 'ERR_SESSION_REQUIRED' })
      await send(app, anon, 'POST', '/login/alice')
      expect((await send(app, anon, 'GET', '/private')).status).toBe(200)
    })

    it('A1: requireRole / requirePermission answer 403 when the session lacks it', async () => {
      const app = guardedApp()
      const user = new CookieJar()
      await send(app, user, 'POST', '/login/alice?roles=user')
      expect((await send(app, user, 'GET', '/admin')).status).toBe(403)
      const denied = await send(app, user, 'GET', '/reports')
      expect(denied.status).toBe(403)
      expect(await denied.json()).toMatchObject({
        code: 'ERR_FORBIDDEN',
        required: ['reports:read'],
      })
      const auditor = new CookieJar()
      await send(app, auditor, 'POST', '/login/carol?roles=auditor')
      expect((await send(app, auditor, 'GET', '/reports')).status).toBe(200)
      expect((await send(app, auditor, 'GET', '/users')).status).toBe(403)
      const admin = new CookieJar()
      await send(app, admin, 'POST', '/login/root?roles=user,admin')
      for (const path of ['/admin', '/reports', '/users'])
        expect((await send(app, admin, 'GET', path)).status).toBe(200)
      expect((await send(app, new CookieJar(), 'GET', '/admin')).status).toBe(401)
    })

    it('attack 8: a client-supplied role field has no effect', async () => {
      const app = guardedApp()
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login/mallory?roles=user')
      // the data field "roles" says admin; the server-side roles do not
      expect((await send(app, jar, 'GET', '/admin')).status).toBe(403)
      const forged = await app.request('http://localhost/admin', {
        headers: { Cookie: jar.header(), 'X-Roles': 'admin', Origin: 'http://localhost' },
      })
      expect(forged.status).toBe(403)
    })

    it('L2: a privilege change issues a new secret and the old one stops working', async () => {
      const app = guardedApp()
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login/alice?roles=user')
      const before = jar.header()
      await send(app, jar, 'POST', '/roles', ['user', 'admin'])
      expect(jar.header()).not.toBe(before)
      expect((await send(app, jar, 'GET', '/admin')).status).toBe(200)
      const old = await app.request('http://localhost/private', { headers: { Cookie: before } })
      expect(old.status).toBe(401)
    })

    it('A3: requireFreshAuth demands a recent second factor, with a machine-readable reason', async () => {
      const clock = fakeClock()
      const app = guardedApp({ now: clock.now })
      const jar = new CookieJar()
      expect(await (await send(app, jar, 'POST', '/password')).json()).toMatchObject({
        reason: 'no-session',
      })
      await send(app, jar, 'POST', '/login/alice')
      const missing = await send(app, jar, 'POST', '/password')
      expect(missing.status).toBe(401)
      expect(await missing.json()).toEqual({
        error: 'Recent authentication required',
        code: 'ERR_STEP_UP_REQUIRED',
        reason: 'missing-method',
        methods: ['otp'],
        maxAge: 300,
      })
      const beforeStepUp = jar.header()
      await send(app, jar, 'POST', '/step-up')
      expect(jar.header()).not.toBe(beforeStepUp) // L2: new secret on 2FA completion
      expect((await send(app, jar, 'POST', '/password')).status).toBe(200)
      clock.advance(301_000)
      expect(await (await send(app, jar, 'POST', '/password')).json()).toMatchObject({
        reason: 'stale',
      })
    })
  })

  describe('lifecycle', () => {
    it('L1: idle and absolute timeouts are enforced server-side, whatever the cookie says', async () => {
      const clock = fakeClock()
      const app = guardedApp({ now: clock.now, idleTimeout: 60, absoluteTimeout: 120 })
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login/alice')
      const cookie = jar.header()
      clock.advance(61_000)
      // the client ignores Max-Age and sends the cookie anyway
      const idle = await app.request('http://localhost/private', { headers: { Cookie: cookie } })
      expect(idle.status).toBe(401)
      const jar2 = new CookieJar()
      await send(app, jar2, 'POST', '/login/bob')
      for (let i = 0; i < 3; i++) {
        clock.advance(30_000)
        expect((await send(app, jar2, 'GET', '/private')).status).toBe(200)
      }
      clock.advance(30_000) // 120 s: the absolute deadline, though the idle one slid
      const abs = await app.request('http://localhost/private', {
        headers: { Cookie: jar2.header() },
      })
      expect(abs.status).toBe(401)
    })

    it('L4: destroy cannot be undone by a concurrent write (no resurrection)', async () => {
      const store = newStore()
      const app = guardedApp({ store })
      app.post('/write', (c) => {
        c.get('session').set('x', 1)
        return c.json({ ok: true })
      })
      app.post('/logout', (c) => {
        c.get('session').destroy()
        return c.json({ ok: true })
      })
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login/l4-user')
      const cookie = jar.header()
      await send(app, jar, 'POST', '/logout')
      const late = await app.request('http://localhost/write', {
        method: 'POST',
        headers: { Cookie: cookie, Origin: 'http://localhost' },
      })
      expect(late.status).toBe(200)
      // the write started a fresh anonymous session; the destroyed one stays dead
      expect(late.headers.get('set-cookie')).not.toContain(cookie.split('=')[1]!)
      expect(
        (await app.request('http://localhost/private', { headers: { Cookie: cookie } })).status,
      ).toBe(401)
      expect(await store.listUser('l4-user', Date.now())).toEqual([])
    })

    it('L6: maxSessionsPerUser evicts the oldest session', async () => {
      const app = guardedApp({ maxSessionsPerUser: 2 })
      const jars = [new CookieJar(), new CookieJar(), new CookieJar()]
      for (const jar of jars) await send(app, jar, 'POST', '/login/alice')
      const statuses = await Promise.all(
        jars.map(async (j) => (await send(app, j, 'GET', '/private')).status),
      )
      expect(statuses).toEqual([401, 200, 200])
    })
  })

  describe('data at rest', () => {
    function dumpingStore() {
      const inner = newStore()
      const writes: string[] = []
      const store = new Proxy(inner, {
        get:
          (t, p) =>
          (...args: unknown[]) => {
            if (p === 'create' || p === 'commit') writes.push(JSON.stringify(args))
            return (t[p as keyof Store] as (...a: unknown[]) => unknown).apply(t, args)
          },
      }) as Store
      return { store, writes }
    }

    it('D1: with encryptAtRest, the store holds no plaintext value and values still round-trip', async () => {
      const { store, writes } = dumpingStore()
      const app = guardedApp({ store, encryptAtRest: true })
      app.post('/put', async (c) => {
        c.get('session').set('card', 'PLAINTEXT-4111-1111')
        return c.json({ ok: true })
      })
      app.get('/card', async (c) => c.json({ card: await c.get('session').get('card') }))
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/put')
      await send(app, jar, 'POST', '/put')
      expect(await (await send(app, jar, 'GET', '/card')).json()).toEqual({
        card: 'PLAINTEXT-4111-1111',
      })
      await send(app, jar, 'POST', '/login/alice') // regeneration re-seals under the new secret
      expect(await (await send(app, jar, 'GET', '/card')).json()).toEqual({
        card: 'PLAINTEXT-4111-1111',
      })
      const dump = writes.join('\n')
      expect(dump).not.toContain('PLAINTEXT')
      expect(dump).toMatch(/"card":"e1\./)
    })

    it('D1: a sealed value cannot be moved to another field or session', async () => {
      const store = newStore()
      const app = guardedApp({ store, encryptAtRest: true })
      app.post('/put', async (c) => {
        c.get('session').set('a', 'secret-a')
        return c.json({ ok: true })
      })
      app.get('/b', async (c) => c.json({ b: (await c.get('session').get('b')) ?? null }))
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login/alice')
      await send(app, jar, 'POST', '/put')
      const [summary] = await store.listUser('alice', Date.now())
      const loaded = await store.load(
        { id: summary!.id, uid: 'alice' },
        { now: Date.now(), extendIfBefore: 0, extendTo: 0 },
      )
      await store.commit(
        { id: summary!.id, uid: 'alice' },
        { set: { b: (loaded as LoadResult).session.fields.a! }, del: [] },
        { now: Date.now(), extendIfBefore: 0, extendTo: 0 },
      )
      expect(await (await send(app, jar, 'GET', '/b')).json()).toEqual({ b: null })
    })
  })
})
