/**
 * Cookie fuzzing (SECURITY.md attack 6, S3, S7, S8): 100,000 random and mutated cookies against
 * the demo app (in-process `app.request`) over a counting memory store give no 5xx and not one
 * store call. Mutations start from a real token: character flips, truncations, insertions,
 * base64 alphabet swaps, huge values, unicode (sent as its UTF-8 bytes, as on the wire), control
 * characters, many cookies, duplicate names. The run time is printed:
 * `[fuzz-cookies] runs=... ms=...`.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { demo } from '../helpers/demo.js'
import { figures } from '../helpers/load.js'
import { CookieJar, countingStore } from '../helpers/session-app.js'

const TOTAL = Number(process.env.FUZZ_COOKIES ?? 100_000)
const store = countingStore()
const { app, login, call } = demo(store)
let token = ''
let anonToken = ''

beforeAll(async () => {
  const jar = new CookieJar()
  await login(jar)
  token = jar.cookies.get('session')!
  const anon = new CookieJar()
  await call(anon, 'POST', '/api/counter')
  anonToken = anon.cookies.get('session')!
  expect(token.split('.')).toHaveLength(5)
})

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** What a raw header byte string looks like after a client sent `text` as UTF-8. */
function wire(text: string): string {
  const latin1 = Buffer.from(text, 'utf8').toString('latin1')
  // Headers refuse NUL, CR and LF (no HTTP client can send them either)
  return latin1.replace(/[\0\r\n]/g, ' ')
}

type Mutation = (t: string) => string

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // flip one character to another base64url character (every position, tag included)
  fc.tuple(fc.nat(), fc.constantFrom(...B64)).map(([i, ch]): Mutation => (t) => {
    const at = i % t.length
    return t.slice(0, at) + ch + t.slice(at + 1)
  }),
  // flip low bits of one character (e.g. the unused bits of the tag's last character)
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })).map(([i, bits]): Mutation => (t) => {
    const at = i % t.length
    const ch = B64[(B64.indexOf(t[at]!) ^ bits) & 63] ?? 'A'
    return t.slice(0, at) + ch + t.slice(at + 1)
  }),
  fc.nat().map(
    (n): Mutation =>
      (t) =>
        t.slice(0, n % t.length),
  ), // truncate
  fc.nat().map(
    (n): Mutation =>
      (t) =>
        t.slice(n % t.length),
  ), // drop the start
  fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 8 })).map(([i, s]): Mutation => (t) => {
    const at = i % (t.length + 1)
    return t.slice(0, at) + s + t.slice(at)
  }),
  // base64 alphabet swaps: url-safe <-> standard, padding
  fc.constantFrom<Mutation>(
    (t) => t.replace(/-/g, '+').replace(/_/g, '/'),
    (t) => t.replace(/\./g, '=.'),
    (t) => t + '=',
    (t) => t + '==',
    (t) => t.replace(/\./g, '..'),
    (t) => t.split('.').slice(0, 4).join('.'),
    (t) => t.split('.').reverse().join('.'),
    (t) => t.toUpperCase(),
    // earlier mutations may have cut a surrogate pair, which encodeURIComponent refuses
    (t) => encodeURIComponent(t.replace(/\p{Cs}/gu, '\uFFFD') + '"'),
    (t) => `"${t}"`,
  ),
  fc.integer({ min: 2, max: 64 }).map(
    (n): Mutation =>
      (t) =>
        t.repeat(n),
  ), // huge
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }).map(
    (u): Mutation =>
      (t) =>
        t.slice(0, 20) + u + t.slice(20),
  ),
  fc.integer({ min: 0, max: 31 }).map(
    (c): Mutation =>
      (t) =>
        t.slice(0, 30) + String.fromCharCode(c) + t.slice(30),
  ),
  // swap two segments between the user's and an anonymous token
  fc.integer({ min: 0, max: 4 }).map((seg): Mutation => (t) => {
    const a = t.split('.')
    const b = anonToken.split('.')
    a[seg] = b[seg]!
    return a.join('.')
  }),
)

const cookieValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(mutation, { minLength: 1, maxLength: 3 })
      .map((ms) => ms.reduce((t, m) => m(t), token)),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...B64, '.'), maxLength: 400 }) },
  { weight: 1, arbitrary: fc.integer({ min: 4000, max: 70_000 }).map((n) => 'A'.repeat(n)) },
)

/** A full Cookie header: the session cookie, maybe duplicated, among other cookies. */
const cookieHeader: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(cookieValue, { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 30 })), {
      maxLength: 8,
    }),
    fc.constantFrom('session', '__Host-session', 'Session', 'session ', ' session'),
    fc.boolean(),
  )
  .map(([values, others, name, othersFirst]) => {
    const mine = values.map((v) => `${name}=${v}`)
    const rest = others.map(([k, v]) => `${k}=${v}`)
    return wire((othersFirst ? [...rest, ...mine] : [...mine, ...rest]).join('; '))
  })

describe('cookie fuzzing (attack 6)', () => {
  it(`${TOTAL} random and mutated cookies: no 5xx, zero store calls`, async () => {
    const started = performance.now()
    let runs = 0
    let skipped = 0
    const statuses = new Map<number, number>()
    const routes = ['/api/prefs', '/api/me', '/'] as const
    store.reset()
    const failures: string[] = []
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
    const arb = fc.tuple(cookieHeader, fc.constantFrom(...routes))
    // fc.sample in chunks, each chunk sent with bounded concurrency (WebCrypto overlaps); a
    // failure prints the offending header (replay with FUZZ_SEED).
    const CHUNK = 2000
    for (let done = 0, chunk = 0; done < TOTAL; done += CHUNK, chunk++) {
      const cases = fc.sample(arb, { numRuns: Math.min(CHUNK, TOTAL - done), seed: seed + chunk })
      let next = 0
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < cases.length) {
            const [header, route] = cases[next++]!
            // a "mutation" that left a real token intact (or only added cookies) is not invalid
            if (header.includes(token) || header.includes(anonToken)) {
              skipped++
              continue
            }
            runs++
            const before = store.total()
            const res = await app.request(`http://localhost${route}`, {
              headers: { Cookie: header, Origin: 'http://localhost' },
            })
            await res.arrayBuffer()
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
            const bad =
              res.status >= 500 ||
              store.total() !== before ||
              (route === '/api/me' && res.status !== 401)
            if (bad && failures.length < 5)
              failures.push(
                `${route} -> ${res.status}, store calls ${store.total()}: ${JSON.stringify(header.slice(0, 300))}`,
              )
          }
        }),
      )
    }
    const ms = Math.round(performance.now() - started)
    figures('fuzz-cookies', {
      runs,
      skippedValid: skipped,
      ms,
      perSecond: Math.round((runs / ms) * 1000),
      statuses: [...statuses].map(([s, n]) => `${s}:${n}`).join(','),
      storeCalls: store.total(),
      seed,
    })
    expect(failures).toEqual([])
    expect(store.total()).toBe(0)
    expect(runs).toBeGreaterThan(TOTAL * 0.8)
  }, 180_000)

  it('the real token still works afterwards (the fuzzing did not poison anything)', async () => {
    const jar = new CookieJar()
    jar.cookies.set('session', token)
    const res = await call(jar, 'GET', '/api/me')
    expect(res.status).toBe(200)
  })
})
