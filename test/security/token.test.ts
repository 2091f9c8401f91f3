import {
  CompactEncrypt,
  EncryptJWT,
  SignJWT,
  UnsecuredJWT,
  base64url,
  generateKeyPair,
  jwtDecrypt,
} from 'jose'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { forEachStore } from '../helpers/stores.js'
import {
  KeyRing,
  MAX_TOKEN_LENGTH,
  isCanonicalBase64url,
  newSecret,
  preflight,
  secretToId,
} from '../../src/token.js'
import {
  CookieJar,
  KEY_A,
  KEY_B,
  countingStore,
  fakeClock,
  send,
  sessionApp as plainApp,
} from '../helpers/session-app.js'

const COOKIE = '__Host-session'
const keyBytes = (k: { secret: string }) => base64url.decode(k.secret)

/** A logged-in jar plus the app and its counting store. */
async function withSession(inner: Store = memoryStore()) {
  const store = countingStore(inner)
  const app = plainApp({ store })
  const jar = new CookieJar()
  await send(app, jar, 'POST', '/set/secret-data', 'top')
  const token = jar.cookies.get(COOKIE)!
  store.reset()
  return { app, store, jar, token }
}

/** Status, body and cookie header of a request carrying `cookie` (or none). */
async function probe(app: ReturnType<typeof plainApp>, cookie?: string) {
  const res = await app.request('http://localhost/get/secret-data', {
    headers: cookie === undefined ? {} : { Cookie: `${COOKIE}=${cookie}` },
  })
  return { status: res.status, body: await res.text(), setCookie: res.headers.get('set-cookie') }
}

forEachStore((newStore) => {
  const sessionApp = (options: Parameters<typeof plainApp>[0] = {}) =>
    plainApp({ store: newStore(), ...options })
  describe('identifiers and tokens', () => {
    it('S1: secrets are 256 bits from the CSPRNG, never repeated', () => {
      const seen = new Set<string>()
      for (let i = 0; i < 2000; i++) {
        const s = newSecret()
        expect(base64url.decode(s)).toHaveLength(32)
        seen.add(s)
      }
      expect(seen.size).toBe(2000)
    })

    it('S2: the secret never reaches the store, the events or an error body', async () => {
      const events: unknown[] = []
      const calls: unknown[] = []
      const inner = newStore()
      const spy = new Proxy(inner, {
        get:
          (t, p) =>
          (...args: unknown[]) => (
            calls.push(args),
            (t[p as keyof typeof t] as Function).apply(t, args)
          ),
      })
      const app = sessionApp({ store: spy, onEvent: (e) => events.push(e) })
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/set/a', 1)
      await send(app, jar, 'POST', '/login/alice')
      await send(app, jar, 'POST', '/set/%24bad', 1)
      const { payload } = await jwtDecrypt(jar.cookies.get(COOKIE)!, keyBytes(KEY_A))
      const sid = payload.sid as string
      expect(sid).toMatch(/^[A-Za-z0-9_-]{43}$/)
      const dump = JSON.stringify({ calls, events })
      expect(dump).not.toContain(sid)
      expect(dump).toContain(await secretToId(sid)) // stored under the hash instead
    })

    it('S3: a change of any single character of a real token is rejected, with no store call', async () => {
      const { app, store, token } = await withSession(newStore())
      const baseline = await probe(app)
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'
      for (let i = 0; i < token.length; i++) {
        const c = token[i]!
        const replacement = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length]!
        const tampered = token.slice(0, i) + replacement + token.slice(i + 1)
        const got = await probe(app, tampered)
        expect({ i, status: got.status, body: got.body }).toEqual({
          i,
          status: baseline.status,
          body: baseline.body,
        })
      }
      expect(store.total()).toBe(0)
      expect((await probe(app, token)).body).toBe('{"value":"top"}')
    })

    it("S3: every other value of the tag's last character is rejected (no non-canonical base64url)", async () => {
      const { app, store, token } = await withSession(newStore())
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const last = token.at(-1)!
      let accepted = 0
      for (const c of alphabet) {
        if (c === last) continue
        const got = await probe(app, token.slice(0, -1) + c)
        if (got.body.includes('top')) accepted++
      }
      expect(accepted).toBe(0)
      expect(store.total()).toBe(0)
      // the same holds for the low bits of every segment's last character
      expect(isCanonicalBase64url('AQ')).toBe(true)
      expect(isCanonicalBase64url('AR')).toBe(false)
      expect(isCanonicalBase64url('AAE')).toBe(true)
      expect(isCanonicalBase64url('AAF')).toBe(false)
      expect(isCanonicalBase64url('AAAAA')).toBe(false)
    })

    it('S4: only dir + A256GCM: other alg/enc, none and JWS are rejected even with the right key bytes', async () => {
      const { app, store, token } = await withSession(newStore())
      const { payload } = await jwtDecrypt(token, keyBytes(KEY_A))
      const key = keyBytes(KEY_A)
      const now = Math.floor(Date.now() / 1000)
      const claims = { sid: payload.sid as string }
      const jwt = () => new EncryptJWT(claims).setIssuedAt(now).setExpirationTime(now + 3600)
      const rsa = await generateKeyPair('RSA-OAEP-256')
      const forged = [
        await jwt().setProtectedHeader({ alg: 'dir', enc: 'A128CBC-HS256', kid: 'a' }).encrypt(key),
        await jwt().setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM', kid: 'a' }).encrypt(key),
        await jwt().setProtectedHeader({ alg: 'A256GCMKW', enc: 'A256GCM', kid: 'a' }).encrypt(key),
        await jwt()
          .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'a' })
          .encrypt(rsa.publicKey),
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', kid: 'a' })
          .setIssuedAt(now)
          .setExpirationTime(now + 3600)
          .sign(key),
        new UnsecuredJWT(claims)
          .setIssuedAt(now)
          .setExpirationTime(now + 3600)
          .encode(),
        // dir/A256GCM header claims but a different key: the tag fails
        await jwt()
          .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 'a' })
          .encrypt(keyBytes(KEY_B)),
        // right key, header swapped to another enc after sealing
        swapHeader(token, { alg: 'dir', enc: 'A128GCM', kid: 'a' }),
        swapHeader(token, { alg: 'none', enc: 'A256GCM', kid: 'a' }),
      ]
      const baseline = await probe(app)
      for (const t of forged) {
        const got = await probe(app, t)
        expect({ status: got.status, body: got.body }).toEqual({
          status: baseline.status,
          body: baseline.body,
        })
      }
      expect(store.total()).toBe(0)
    })

    it('S5: exp, iat and sid are required', async () => {
      const { app, store } = await withSession(newStore())
      const key = keyBytes(KEY_A)
      const now = Math.floor(Date.now() / 1000)
      const seal = (claims: Record<string, unknown>) =>
        new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims)))
          .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 'a' })
          .encrypt(key)
      const sid = newSecret()
      const ring = new KeyRing([KEY_A])
      for (const claims of [
        { sid, iat: now },
        { sid, exp: now + 60 },
        { iat: now, exp: now + 60 },
        { sid: 'short', iat: now, exp: now + 60 },
      ]) {
        const t = await seal(claims)
        expect(await ring.open(t, Date.now())).toBeNull()
        expect((await probe(app, t)).body).toBe('{"value":null}')
      }
      expect(
        await ring.open(await seal({ sid, iat: now, exp: now + 60 }), Date.now()),
      ).not.toBeNull()
      expect(store.total()).toBe(0)
    })

    it('S6: an expired token is rejected though its entry exists; a live token whose entry is gone is rejected', async () => {
      const clock = fakeClock()
      const store = countingStore(newStore())
      const app = sessionApp({ store, now: clock.now, idleTimeout: 3600, absoluteTimeout: 7200 })
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/set/a', 1)
      const token = jar.cookies.get(COOKIE)!
      const { payload } = await jwtDecrypt(token, keyBytes(KEY_A), {
        currentDate: new Date(clock.now()),
      })
      // same sid (the entry exists), exp already past
      const nowS = Math.floor(clock.now() / 1000)
      const expired = await new EncryptJWT({ sid: payload.sid })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 'a' })
        .setIssuedAt(nowS - 100)
        .setExpirationTime(nowS - 1)
        .encrypt(keyBytes(KEY_A))
      store.reset()
      const res = await app.request('http://localhost/get/a', {
        headers: { Cookie: `${COOKIE}=${expired}` },
      })
      expect(await res.json()).toEqual({ value: null })
      expect(store.total()).toBe(0)
      // entry deleted behind the token's back
      await store.destroy({ id: await secretToId(payload.sid as string) })
      expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: null })
      expect(jar.cookies.size).toBe(0)
    })

    it('S7: oversized and malformed tokens are rejected before any crypto', async () => {
      const { app, store, token } = await withSession(newStore())
      const huge = token + 'A'.repeat(MAX_TOKEN_LENGTH)
      expect(preflight(huge)).toBeNull()
      for (const bad of [
        '',
        '....',
        'a.b.c',
        token.replace('..', '.x.'),
        `${token}.x`,
        '%%%',
        'eyJ.eyJ..x.y',
        huge,
      ]) {
        expect(preflight(bad)).toBeNull()
        expect((await probe(app, bad)).body).toBe('{"value":null}')
      }
      // a header that does not name dir/A256GCM never reaches jose
      expect(preflight(swapHeader(token, { alg: 'dir', enc: 'A256GCM' }))).toBeNull()
      expect(preflight(token)).toBe('a')
      expect(store.total()).toBe(0)
    })

    it('S8: all invalid tokens give the same response, equal to no cookie but for clearing it', async () => {
      const { app, token } = await withSession(newStore())
      const none = await probe(app)
      const invalid = [
        token.slice(0, -2) + 'AA',
        'garbage',
        token + 'x',
        swapHeader(token, { alg: 'dir', enc: 'A256GCM', kid: 'zz' }),
      ]
      const results = await Promise.all(invalid.map((t) => probe(app, t)))
      for (const r of results) {
        expect(r).toEqual(results[0])
        expect({ status: r.status, body: r.body }).toEqual({ status: none.status, body: none.body })
        expect(r.setCookie).toMatch(/^__Host-session=; Max-Age=0/)
      }
    })

    it('S9: a retired key still opens while listed; removing it invalidates its tokens', async () => {
      const store = newStore()
      const old = sessionApp({ store, keys: [KEY_B] })
      const jar = new CookieJar()
      await send(old, jar, 'POST', '/set/a', 'from-b')
      const rotated = sessionApp({ store, keys: [KEY_A, KEY_B] })
      expect(await (await send(rotated, jar, 'GET', '/get/a')).json()).toEqual({ value: 'from-b' })
      // new tokens are sealed with the newest key
      const fresh = new CookieJar()
      await send(rotated, fresh, 'POST', '/set/a', 1)
      expect(preflight(fresh.cookies.get(COOKIE)!)).toBe('a')
      const removed = sessionApp({ store, keys: [KEY_A] })
      expect(await (await send(removed, jar, 'GET', '/get/a')).json()).toEqual({ value: null })
      expect(await (await send(removed, fresh, 'GET', '/get/a')).json()).toEqual({ value: 1 })
    })
  })

  describe('cookies and transport', () => {
    it('C1: HttpOnly, Secure, SameSite=Lax, Path=/, __Host- prefix, no Domain', async () => {
      const { app } = await withSession(newStore())
      const res = await app.request('http://localhost/set/x', { method: 'POST', body: '1' })
      const line = res.headers.get('set-cookie')!
      expect(line).toMatch(/^__Host-session=[^;]+;/)
      for (const attr of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/'])
        expect(line).toContain(attr)
      expect(line).not.toMatch(/Domain=/i)
    })

    it('C1: SameSite=Strict and a Domain are configurable (then the prefix is __Secure-)', async () => {
      const strict = sessionApp({ sameSite: 'Strict', domain: 'example.com' })
      const res = await strict.request('http://localhost/set/x', { method: 'POST', body: '1' })
      const line = res.headers.get('set-cookie')!
      expect(line).toMatch(/^__Secure-session=/)
      expect(line).toContain('SameSite=Strict')
      expect(line).toContain('Domain=example.com')
    })

    it('C1: the explicit localhost dev mode drops Secure and the prefix, and refuses other hosts', async () => {
      const dev = sessionApp({ insecureLocalhost: true })
      const res = await dev.request('http://localhost/set/x', { method: 'POST', body: '1' })
      const line = res.headers.get('set-cookie')!
      expect(line).toMatch(/^session=/)
      expect(line).not.toContain('Secure')
      const remote = await dev.request('http://example.com/set/x', { method: 'POST', body: '1' })
      expect(remote.status).toBe(400)
      expect(remote.headers.get('set-cookie')).toBeNull()
    })

    it('C2: Max-Age never outlives the store deadline or the absolute deadline', async () => {
      const clock = fakeClock()
      const app = sessionApp({
        now: clock.now,
        idleTimeout: 600,
        absoluteTimeout: 900,
        extendAfter: 0,
      })
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/set/a', 1)
      const start = clock.now()
      let reissued = 0
      for (let t = 110_000; t < 880_000; t += 110_000) {
        clock.set(start + t)
        const res = await send(app, jar, 'GET', '/info')
        const { info } = (await res.json()) as {
          info: { expiresAt: number; absoluteExpiresAt: number }
        }
        const setCookie = res.headers.get('set-cookie')
        if (setCookie) {
          reissued++
          const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1])
          expect(clock.now() + maxAge * 1000).toBeLessThanOrEqual(info.expiresAt)
        }
        expect(info.expiresAt).toBeLessThanOrEqual(info.absoluteExpiresAt)
        expect(info.absoluteExpiresAt).toBeLessThanOrEqual(start + 900_000)
      }
      // extended at 110, 220, 330 s; from then on the absolute deadline caps it: nothing to move
      expect(reissued).toBe(3)
    })

    it('C3: responses touching a session carry Cache-Control: no-store; untouched ones do not', async () => {
      const { app, jar } = await withSession(newStore())
      expect((await send(app, jar, 'GET', '/get/secret-data')).headers.get('cache-control')).toBe(
        'no-store',
      )
      expect((await send(app, jar, 'POST', '/set/b', 1)).headers.get('cache-control')).toBe(
        'no-store',
      )
      expect((await send(app, jar, 'GET', '/untouched')).headers.get('cache-control')).toBeNull()
    })
  })
})

/** Replaces a token's protected header (breaking the AAD, or testing the pre-crypto checks). */
function swapHeader(token: string, header: Record<string, unknown>): string {
  const parts = token.split('.')
  parts[0] = base64url.encode(JSON.stringify(header))
  return parts.join('.')
}
