/**
 * The demo's security features end to end (SECURITY.md A3, A4, attacks 4, 7, 9, 10), against the
 * memory store and a real Redis.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ioredisStore } from '../../src/store/ioredis.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { totp } from '../../src/totp.js'
import { demo } from '../helpers/demo.js'
import { startRedis, stopAll, type RedisServer } from '../helpers/redis.js'
import { CookieJar, fakeClock } from '../helpers/session-app.js'

afterAll(stopAll)
const codes = totp({ issuer: 'test' })

function securitySuite(name: string, setup: () => Promise<{ store: Store; raw?: Redis }>) {
  describe(`demo security: ${name}`, () => {
    let store: Store
    let raw: Redis | undefined
    beforeAll(async () => {
      ;({ store, raw } = await setup())
    })

    /** Logs in, enrols TOTP (confirming with a code) and returns the secret. */
    async function enrolled(clock: ReturnType<typeof fakeClock>, user = 'alice') {
      const d = demo(store, { now: clock.now })
      const jar = new CookieJar()
      await d.login(jar, user)
      // a first enrolment: an earlier test's factor would need a fresh otp to be replaced
      await store.setUserValue(user, 'totp', null)
      const enrol = await d.call(jar, 'POST', '/api/2fa/enrol', { password: `${user}-password` })
      const { secret, uri } = (await enrol.json()) as {
        secret: string
        uri: string
      }
      expect(uri).toMatch(/^otpauth:\/\/totp\/.*secret=/)
      const confirm = await d.call(jar, 'POST', '/api/2fa/confirm', {
        code: codes.generate(secret, clock.now()),
      })
      expect(await confirm.json()).toEqual({ ok: true })
      return { ...d, jar, secret }
    }

    it('A3: the password change needs a fresh TOTP step-up, with a machine-readable reason', async () => {
      const clock = fakeClock(Date.now())
      const d = demo(store, { now: clock.now })
      const jar = new CookieJar()
      await d.login(jar)
      const refused = await d.call(jar, 'POST', '/api/password', { password: 'a-new-password-1' })
      expect(refused.status).toBe(401)
      expect(await refused.json()).toMatchObject({
        code: 'ERR_STEP_UP_REQUIRED',
        reason: 'missing-method',
      })
      const e = await enrolled(clock)
      // enrolment confirmation counts as a step-up
      expect(
        (await e.call(e.jar, 'POST', '/api/password', { password: 'a-new-password-1' })).status,
      ).toBe(200)
      clock.advance(301_000)
      const stale = await e.call(e.jar, 'POST', '/api/password', { password: 'a-new-password-1' })
      expect(await stale.json()).toMatchObject({ reason: 'stale' })
      const before = e.jar.header()
      const ok = await e.call(e.jar, 'POST', '/api/2fa/verify', {
        code: codes.generate(e.secret, clock.now()),
      })
      expect(await ok.json()).toEqual({ ok: true })
      expect(e.jar.header()).not.toBe(before) // L2: new secret on 2FA completion
      expect(
        (await e.call(e.jar, 'POST', '/api/password', { password: 'a-new-password-1' })).status,
      ).toBe(200)
      expect((await e.call(e.jar, 'POST', '/api/password', { password: 'short' })).status).toBe(400)
    })

    it('attack 9: a used TOTP code fails the second time; wrong codes are rate-limited', async () => {
      const clock = fakeClock(Date.now())
      const e = await enrolled(clock, 'admin')
      clock.advance(60_000)
      const code = codes.generate(e.secret, clock.now())
      expect((await e.call(e.jar, 'POST', '/api/2fa/verify', { code })).status).toBe(200)
      const replay = await e.call(e.jar, 'POST', '/api/2fa/verify', { code })
      expect(replay.status).toBe(401)
      expect(await replay.json()).toEqual({ ok: false, reason: 'replayed' })
      // one failure so far (the replay); 4 more wrong codes reach the limit of 5
      for (let i = 0; i < 4; i++) {
        const wrong = await e.call(e.jar, 'POST', '/api/2fa/verify', { code: '000000' })
        expect(await wrong.json()).toEqual({ ok: false, reason: 'invalid' })
      }
      clock.advance(30_000)
      const right = codes.generate(e.secret, clock.now())
      const limited = await e.call(e.jar, 'POST', '/api/2fa/verify', { code: right })
      expect(limited.status).toBe(429)
      expect(await limited.json()).toEqual({
        ok: false,
        reason: 'rate-limited',
        retryAfterSeconds: expect.any(Number),
      })
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    })

    it('A3: codes from ±1 step are accepted, further ones are not', async () => {
      const clock = fakeClock(Date.now() + 3_600_000) // time steps no other test used
      const e = await enrolled(clock, 'alice')
      const at = (offset: number) => codes.generate(e.secret, clock.now() + offset * 30_000)
      clock.advance(120_000)
      expect((await e.call(e.jar, 'POST', '/api/2fa/verify', { code: at(-1) })).status).toBe(200)
      expect((await e.call(e.jar, 'POST', '/api/2fa/verify', { code: at(3) })).status).toBe(401)
    })

    it('A1: /admin is 403 for a user and 200 for an admin', async () => {
      const d = demo(store)
      const user = new CookieJar()
      await d.login(user, 'alice')
      expect((await d.call(user, 'GET', '/admin')).status).toBe(403)
      const admin = new CookieJar()
      await d.login(admin, 'admin')
      const page = await d.call(admin, 'GET', '/admin')
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('Administration')
      expect((await d.call(new CookieJar(), 'GET', '/admin')).status).toBe(401)
    })

    it('the 2FA page shows a QR code for a pending enrolment', async () => {
      const d = demo(store)
      const jar = new CookieJar()
      await d.login(jar)
      await store.setUserValue('alice', 'totp', null) // not enrolled yet
      expect(
        (await d.call(jar, 'POST', '/settings/2fa/enrol', { password: 'alice-password' })).status,
      ).toBe(303)
      const page = await (await d.call(jar, 'GET', '/settings/2fa')).text()
      expect(page).toContain('<svg')
      expect(page).toContain('action="/settings/2fa/confirm"')
    })

    it('A4: every unsafe route refuses a cross-origin form post', async () => {
      const d = demo(store)
      const jar = new CookieJar()
      await d.login(jar)
      const unsafe: [string, string][] = [
        ['POST', '/login'],
        ['POST', '/logout'],
        ['POST', '/counter'],
        ['POST', '/api/counter'],
        ['POST', '/api/logout-all'],
        ['PUT', '/api/prefs/x'],
        ['POST', '/api/password'],
        ['POST', '/api/2fa/enrol'],
        ['POST', '/api/2fa/verify'],
        ['POST', '/settings/2fa/enrol'],
        ['POST', '/settings/password'],
        ['DELETE', `/api/sessions/${'A'.repeat(43)}`],
      ]
      for (const [method, path] of unsafe) {
        const res = await d.call(
          jar,
          method,
          path,
          { value: 'x', code: '123456' },
          'https://evil.example',
        )
        expect({ path, status: res.status }).toEqual({ path, status: 403 })
      }
      expect((await d.call(jar, 'GET', '/api/me')).status).toBe(200) // still signed in
    })

    it('attack 4: a cookie planted before login is not the cookie after login', async () => {
      const d = demo(store)
      const victim = new CookieJar()
      await d.call(victim, 'POST', '/api/counter') // an anonymous session the attacker could plant
      const planted = victim.cookies.get('session')!
      await d.login(victim)
      expect(victim.cookies.get('session')).not.toBe(planted)
      const attacker = new CookieJar()
      attacker.cookies.set('session', planted)
      expect((await d.call(attacker, 'GET', '/api/me')).status).toBe(401)
    })

    it('attack 7 / D2: oversized cookies, headers and payloads get a clear 4xx, nothing stored', async () => {
      const d = demo(store)
      const jar = new CookieJar()
      await d.login(jar)
      jar.cookies.set('session', 'x'.repeat(8000))
      expect((await d.call(jar, 'GET', '/api/me')).status).toBe(401)
      const ok = new CookieJar()
      await d.login(ok)
      const big = await d.call(ok, 'PUT', '/api/prefs/big', { value: 'x'.repeat(2000) })
      expect(big.status).toBe(400)
      expect(await (await d.call(ok, 'GET', '/api/prefs')).json()).toEqual({})
    })

    if (name === 'ioredis') {
      it('attack 10: a session hash edited in Redis yields a fresh session, never a crash', async () => {
        const d = demo(store)
        for (const poison of [
          (k: string) => raw!.hset(k, '$e', 'not-a-number'),
          (k: string) => raw!.hdel(k, '$a'),
          (k: string) => raw!.hset(k, '$r', '{"admin":true}'),
          (k: string) => raw!.hset(k, 'pref.theme', '{not json'),
          async (k: string) => {
            await raw!.del(k)
            await raw!.set(k, 'a string, not a hash')
          },
        ]) {
          const jar = new CookieJar()
          await d.login(jar)
          await d.call(jar, 'PUT', '/api/prefs/theme', { value: 'dark' })
          const [key] = (await raw!.keys('sess:{alice}:*')).filter(
            (k) => !k.includes(':h:') && !k.includes(':c:') && !k.includes(':v:'),
          )
          await poison(key!)
          for (const path of ['/api/me', '/api/prefs', '/api/sessions']) {
            const res = await d.call(jar, 'GET', path)
            expect(res.status, `${path} after poisoning`).toBeLessThan(500)
          }
          expect((await d.call(jar, 'PUT', '/api/prefs/x', { value: 'y' })).status).toBeLessThan(
            500,
          )
          await raw!.del(key!)
        }
      })
    }
  })
}

securitySuite('memory', async () => ({ store: memoryStore() }))
let server: RedisServer
let client: ReturnType<typeof ioredisStore> | undefined
securitySuite('ioredis', async () => {
  server = await startRedis()
  client = ioredisStore({ url: server.url })
  return { store: client, raw: new Redis({ port: server.port }) }
})
afterAll(() => client?.close())
