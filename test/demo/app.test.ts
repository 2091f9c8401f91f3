import { describe, expect, it } from 'vitest'
import { createDemoApp } from '../../demo/app.js'
import { keysFromEnv } from '../../demo/config.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { demo } from '../helpers/demo.js'
import { CookieJar, KEY_A, countingStore } from '../helpers/session-app.js'

const COOKIE = 'session' // the demo runs in localhost dev mode over plain HTTP

describe('demo app HTTP contract', () => {
  it('GET /healthz is a liveness check', async () => {
    const { call } = demo()
    const res = await call(new CookieJar(), 'GET', '/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ok' })
  })

  it('GET / shows the login form, then a greeting', async () => {
    const { call, login } = demo()
    const jar = new CookieJar()
    const first = await call(jar, 'GET', '/')
    expect(first.headers.get('content-type')).toMatch(/text\/html/)
    expect(await first.text()).toContain('<form method="post" action="/login">')
    await login(jar)
    expect(await (await call(jar, 'GET', '/')).text()).toContain('Hello, alice')
  })

  it('C4: sends HSTS, a strict CSP, nosniff and Referrer-Policy; pages use no inline style or script', async () => {
    const { call } = demo()
    const res = await call(new CookieJar(), 'GET', '/')
    expect(res.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains')
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    const page = await res.text()
    expect(page).not.toMatch(/<script(?![^>]*src=)|<style|style=/)
    const css = await call(new CookieJar(), 'GET', '/app.css')
    expect(css.headers.get('content-type')).toMatch(/text\/css/)
  })

  it('POST /login: 303 to / with a session cookie; wrong password 401', async () => {
    const { call, login } = demo()
    const jar = new CookieJar()
    const bad = await login(jar, 'alice', 'nope')
    expect(bad.status).toBe(401)
    expect(jar.cookies.has(COOKIE)).toBe(false)
    expect((await login(jar, 'mallory', 'x')).status).toBe(401)
    const ok = await login(jar)
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/')
    expect(jar.cookies.has(COOKIE)).toBe(true)
    expect(await (await call(jar, 'GET', '/api/me')).json()).toEqual({
      user: 'alice',
      roles: ['user'],
    })
  })

  it('GET /api/me: 401 when anonymous; admin has both roles', async () => {
    const { call, login } = demo()
    expect((await call(new CookieJar(), 'GET', '/api/me')).status).toBe(401)
    const jar = new CookieJar()
    await login(jar, 'admin')
    expect(await (await call(jar, 'GET', '/api/me')).json()).toEqual({
      user: 'admin',
      roles: ['user', 'admin'],
    })
  })

  it('POST /api/counter counts per session, anonymous too, and survives login', async () => {
    const { call, login } = demo()
    const jar = new CookieJar()
    for (const n of [1, 2, 3])
      expect(await (await call(jar, 'POST', '/api/counter')).json()).toEqual({ count: n })
    const other = new CookieJar()
    expect(await (await call(other, 'POST', '/api/counter')).json()).toEqual({ count: 1 })
    await login(jar)
    expect(await (await call(jar, 'POST', '/api/counter')).json()).toEqual({ count: 4 })
  })

  it('POST /logout: 303, cookie cleared, entry deleted (the old cookie is dead)', async () => {
    const { call, login } = demo()
    const jar = new CookieJar()
    await login(jar)
    const stolen = new CookieJar()
    stolen.cookies.set(COOKIE, jar.cookies.get(COOKIE)!)
    const res = await call(jar, 'POST', '/logout')
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toMatch(/^session=; Max-Age=0/)
    expect(jar.cookies.size).toBe(0)
    expect((await call(stolen, 'GET', '/api/me')).status).toBe(401)
  })

  it('unsafe form requests from another origin are refused (csrf)', async () => {
    const { call } = demo()
    const jar = new CookieJar()
    const res = await call(
      jar,
      'POST',
      '/login',
      { username: 'alice', password: 'alice-password' },
      'https://evil.example',
    )
    expect(res.status).toBe(403)
    expect(jar.cookies.size).toBe(0)
  })

  it('a request never touching the session does no store call', async () => {
    const store = countingStore()
    const { call } = demo(store)
    await call(new CookieJar(), 'GET', '/healthz')
    await call(new CookieJar(), 'GET', '/api/me')
    expect(store.total()).toBe(0)
  })
})

describe('demo sessions, prefs and readiness', () => {
  it("lists the user's sessions, revokes one, logs out everywhere", async () => {
    const { call, login } = demo()
    const laptop = new CookieJar()
    const phone = new CookieJar()
    await login(laptop)
    await login(phone)
    const { sessions } = (await (await call(laptop, 'GET', '/api/sessions')).json()) as {
      sessions: { id: string; current: boolean; createdAt: number }[]
    }
    expect(sessions).toHaveLength(2)
    expect(sessions.filter((s) => s.current)).toHaveLength(1)
    const phoneId = sessions.find((s) => !s.current)!.id
    expect((await call(laptop, 'DELETE', `/api/sessions/${phoneId}`)).status).toBe(200)
    expect((await call(phone, 'GET', '/api/me')).status).toBe(401)
    const tablet = new CookieJar()
    await login(tablet)
    expect(await (await call(laptop, 'POST', '/api/logout-all')).json()).toEqual({ destroyed: 2 })
    expect(laptop.cookies.size).toBe(0)
    expect((await call(tablet, 'GET', '/api/me')).status).toBe(401)
    expect((await call(new CookieJar(), 'GET', '/api/sessions')).status).toBe(401)
  })

  it('PUT /api/prefs/:name sets one field; concurrent writes of different fields all survive', async () => {
    const { call, login } = demo()
    const jar = new CookieJar()
    await login(jar)
    const names = Array.from({ length: 50 }, (_, i) => `p${i}`)
    const results = await Promise.all(
      names.map((n) => call(jar, 'PUT', `/api/prefs/${n}`, { value: `v-${n}` })),
    )
    expect(results.every((r) => r.status === 200)).toBe(true)
    const prefs = await (await call(jar, 'GET', '/api/prefs')).json()
    expect(prefs).toEqual(Object.fromEntries(names.map((n) => [n, `v-${n}`])))
    expect((await call(jar, 'PUT', '/api/prefs/bad%20name', { value: 'x' })).status).toBe(400)
    expect((await call(jar, 'PUT', '/api/prefs/ok', {})).status).toBe(400)
  })

  it('GET /readyz pings the store: 200, or 503 naming the failure', async () => {
    expect(await (await demo().call(new CookieJar(), 'GET', '/readyz')).json()).toMatchObject({
      status: 'ok',
    })
    const broken = { ...memoryStore(), ping: () => Promise.reject(new Error('down')) } as Store
    const res = await demo(broken).call(new CookieJar(), 'GET', '/readyz')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({
      status: 'error',
      error: 'session store unavailable: ping failed',
    })
    const hanging = { ...memoryStore(), ping: () => new Promise(() => {}) } as Store
    const slow = await createDemoApp({
      store: hanging,
      keys: [KEY_A],
      insecureLocalhost: true,
      readyTimeoutMs: 50,
    }).request('/readyz')
    expect(slow.status).toBe(503)
    expect(await slow.text()).toContain('no answer within 50 ms')
  })
})

describe('SESSION_KEYS', () => {
  it('parses kid:secret pairs, the first one sealing', () => {
    expect(keysFromEnv(`k2:${KEY_A.secret},k1:${'B'.repeat(43)}`)).toEqual([
      { kid: 'k2', secret: KEY_A.secret },
      { kid: 'k1', secret: 'B'.repeat(43) },
    ])
    expect(() => keysFromEnv('nokid')).toThrow(/kid:secret/)
  })
  it('warns and uses a random key when unset', () => {
    const warnings: string[] = []
    const keys = keysFromEnv(undefined, (m) => warnings.push(m))
    expect(keys).toHaveLength(1)
    expect(warnings[0]).toMatch(/SESSION_KEYS is not set/)
  })
})
