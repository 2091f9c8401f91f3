/**
 * The trusted-device helpers on a plain Hono app over https (the `__Host-` cookie, as in
 * production): the cookie's attributes, what `trusted` is worth to `requireFreshAuth`, a dead
 * token that tries to end the user's trust, a failing store, bad options.
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  requireFreshAuth,
  session,
  trustedDevices,
  TRUSTED_METHOD,
  type SessionEnv,
} from '../../src/index.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { satisfiesMethod } from '../../src/trusted-device.js'
import { CookieJar, KEY_A } from '../helpers/session-app.js'

const ORIGIN = 'https://app.example'

function app(store: Store = memoryStore()) {
  const devices = trustedDevices({ keys: [KEY_A], store })
  const a = new Hono<SessionEnv>()
  a.use(session({ keys: [KEY_A], store }))
  a.post('/login/:user', async (c) => {
    const s = c.get('session')
    const user = c.req.param('user')
    const trusted = await devices.recognise(c, s, user)
    s.authenticate(user, { amr: trusted ? ['pwd', TRUSTED_METHOD] : ['pwd'] })
    return c.json({ trusted })
  })
  a.post('/trust/:ok', async (c) =>
    c.json({
      trusted: await devices.remember(c, c.get('session'), { ok: c.req.param('ok') === 'yes' }),
    }),
  )
  a.post('/revoke', async (c) => {
    await devices.revoke(c.get('session'))
    return c.json({ ok: true })
  })
  a.post('/logout', (c) => {
    c.get('session').destroy()
    return c.json({ ok: true })
  })
  a.get('/fresh', requireFreshAuth(), (c) => c.json({ ok: true }))
  a.get('/always', requireFreshAuth({ alwaysFresh: true }), (c) => c.json({ ok: true }))
  const call = async (jar: CookieJar, method: string, path: string) => {
    const headers: Record<string, string> = { Origin: ORIGIN }
    if (jar.cookies.size) headers.Cookie = jar.header()
    const res = jar.take(await a.request(`${ORIGIN}${path}`, { method, headers }))
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
  return { call }
}

describe('trusted devices: the cookie', () => {
  it('is __Host- prefixed, Secure, HttpOnly, SameSite=Strict, Path=/, no Domain, 30 days', async () => {
    const { call } = app()
    const jar = new CookieJar()
    await call(jar, 'POST', '/login/alice')
    expect((await call(jar, 'POST', '/trust/yes')).body).toEqual({ trusted: true })
    const line = jar.lastSetCookie.find((l) => l.startsWith('__Host-trusted-device='))!
    expect(line.split('; ').slice(1).sort()).toEqual(
      ['HttpOnly', 'Max-Age=2592000', 'Path=/', 'SameSite=Strict', 'Secure'].sort(),
    )
    await call(jar, 'POST', '/logout')
    expect((await call(jar, 'POST', '/login/alice')).body).toEqual({ trusted: true })
    expect((await call(jar, 'GET', '/fresh')).status).toBe(200)
    expect((await call(jar, 'GET', '/always')).body).toMatchObject({ reason: 'missing-method' })
  })

  it('is not set for a failed step-up, and is not read without its prefix', async () => {
    const { call } = app()
    const jar = new CookieJar()
    await call(jar, 'POST', '/login/alice')
    expect((await call(jar, 'POST', '/trust/no')).body).toEqual({ trusted: false })
    expect(jar.cookies.has('__Host-trusted-device')).toBe(false)
    await call(jar, 'POST', '/trust/yes')
    // the same value without the prefix (set by a sibling subdomain, say) is not the cookie
    const value = jar.cookies.get('__Host-trusted-device')!
    const other = new CookieJar()
    other.cookies.set('trusted-device', value)
    expect((await call(other, 'POST', '/login/alice')).body).toEqual({ trusted: false })
  })

  it('a dead token cannot end the trust of the user', async () => {
    const { call } = app()
    const jar = new CookieJar()
    await call(jar, 'POST', '/login/alice')
    await call(jar, 'POST', '/trust/yes')
    const dead = new CookieJar()
    for (const [k, v] of jar.cookies) dead.cookies.set(k, v)
    await call(jar, 'POST', '/logout') // the copied session token is dead now
    expect((await call(dead, 'POST', '/revoke')).status).toBe(401)
    expect((await call(jar, 'POST', '/login/alice')).body).toEqual({ trusted: true })
    // a live one can
    expect((await call(jar, 'POST', '/revoke')).body).toEqual({ ok: true })
    expect((await call(jar, 'GET', '/fresh')).body).toMatchObject({ reason: 'missing-method' })
    await call(jar, 'POST', '/logout')
    expect((await call(jar, 'POST', '/login/alice')).body).toEqual({ trusted: false })
  })

  it('a failing store is a 503 with the typed code, never the store text', async () => {
    const good = memoryStore()
    const store = new Proxy(good, {
      get(target, name) {
        if (name === 'getUserValue')
          return () => Promise.reject(new Error('connection reset by 10.0.0.7'))
        const value: unknown = Reflect.get(target, name)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const { call } = app(store)
    const jar = new CookieJar()
    await call(jar, 'POST', '/login/alice')
    const failed = await call(jar, 'POST', '/trust/yes')
    expect(failed.status).toBe(503)
    expect(failed.body).toMatchObject({ code: 'ERR_SESSION_STORE' })
    expect(JSON.stringify(failed.body)).not.toContain('10.0.0.7')
  })
})

describe('trusted devices: what `trusted` is worth', () => {
  it('stands in for otp only, and never for an always-fresh operation', () => {
    expect(satisfiesMethod(['pwd', 'trusted'], 'otp', false)).toBe(true)
    expect(satisfiesMethod(['pwd', 'trusted'], 'otp', true)).toBe(false)
    expect(satisfiesMethod(['pwd', 'otp'], 'otp', true)).toBe(true)
    expect(satisfiesMethod(['trusted'], 'pwd', false)).toBe(false)
    expect(satisfiesMethod(['pwd', 'trusted'], 'hwk', false)).toBe(false)
  })

  it('refuses bad options at creation, naming them', () => {
    const store = memoryStore()
    expect(() => trustedDevices({ keys: [], store })).toThrow(/keys/)
    expect(() => trustedDevices({ keys: [KEY_A], store: undefined as never })).toThrow(/"store"/)
    expect(() => trustedDevices({ keys: [KEY_A], store, maxAge: 0 })).toThrow(/"maxAge"/)
    expect(() => trustedDevices({ keys: [KEY_A], store, maxAge: 1.5 })).toThrow(/"maxAge"/)
    expect(() => trustedDevices({ keys: [KEY_A], store, cookieName: 'a b' })).toThrow(
      /"cookieName"/,
    )
  })
})
