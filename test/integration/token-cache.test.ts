import { afterEach, describe, expect, it } from 'vitest'
import { cryptoBackend, useCryptoBackend } from '../../src/crypto/backend.js'
import { memoryStore } from '../../src/store/memory.js'
import { TokenCache } from '../../src/token-cache.js'
import { CookieJar, fakeClock, send, sessionApp } from '../helpers/session-app.js'

/** The backend in use, counting the tokens it opens. */
function countOpens(): { opens: number } {
  const inner = cryptoBackend()
  const count = { opens: 0 }
  useCryptoBackend({
    ...inner,
    open(key, token) {
      count.opens++
      return inner.open(key, token)
    },
  })
  afterEach(() => useCryptoBackend(inner))
  return count
}

describe('token cache', () => {
  const claims = (exp: number) => ({ sid: 'S'.repeat(43), iat: 0, exp })

  it('S6: a cached token still expires at its exp', () => {
    const cache = new TokenCache(10)
    cache.set('t', claims(100), 'id')
    expect(cache.get('t', 99_999)?.id).toBe('id')
    expect(cache.get('t', 100_000)).toBeUndefined()
    expect(cache.get('t', 1)).toBeUndefined() // dropped once found expired
  })

  it('is bounded, least recently used first', () => {
    const cache = new TokenCache(2)
    cache.set('a', claims(1e9), 'A')
    cache.set('b', claims(1e9), 'B')
    cache.get('a', 0)
    cache.set('c', claims(1e9), 'C')
    expect(cache.get('b', 0)).toBeUndefined()
    expect(cache.get('a', 0)?.id).toBe('A')
    expect(cache.get('c', 0)?.id).toBe('C')
  })

  it('never evicts a token used at least once per half the capacity of insertions', () => {
    const cache = new TokenCache(8)
    cache.set('hot', claims(1e9), 'H')
    for (let i = 0; i < 100; i++) {
      cache.set(`cold${i}`, claims(1e9), 'C')
      if (i % 4 === 3) expect(cache.get('hot', 0)?.id).toBe('H')
    }
    expect(cache.get('cold0', 0)).toBeUndefined()
    expect(cache.get('cold99', 0)?.id).toBe('C')
  })

  it('a token this process minted is not opened again on its first use', async () => {
    const count = countOpens()
    const store = memoryStore()
    const clock = fakeClock()
    const app = sessionApp({ store, now: clock.now, rotateEvery: 60 })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1) // a new session
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 1 })
    await send(app, jar, 'POST', '/login/alice') // a new secret
    expect(await (await send(app, jar, 'GET', '/info')).json()).toMatchObject({
      info: { userId: 'alice' },
    })
    clock.advance(61_000)
    const before = jar.header()
    await send(app, jar, 'GET', '/get/a') // periodic rotation (decided on a read): a new secret
    expect(jar.header()).not.toBe(before)
    await send(app, jar, 'POST', '/set/b', 2)
    expect(await (await send(app, jar, 'GET', '/get/b')).json()).toEqual({ value: 2 })
    expect(count.opens).toBe(0)
    // another process (or this one after a restart) opens it as any other token
    const other = sessionApp({ store, now: clock.now })
    const res = await other.request('http://localhost/get/b', { headers: { Cookie: jar.header() } })
    expect(await res.json()).toEqual({ value: 2 })
    expect(count.opens).toBe(1)
  })

  it('a minted token still dies with its session: logout, and the pre-login token', async () => {
    const app = sessionApp()
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    const anonymous = jar.header()
    await send(app, jar, 'POST', '/login/alice')
    const signedIn = jar.header()
    await send(app, jar, 'POST', '/destroy')
    for (const cookie of [anonymous, signedIn]) {
      const res = await app.request('http://localhost/info', { headers: { Cookie: cookie } })
      expect(await res.json()).toEqual({ info: null, isNew: true })
    }
  })

  it('a repeat request past the absolute deadline is refused though its token was cached', async () => {
    const clock = fakeClock()
    const app = sessionApp({ now: clock.now, idleTimeout: 60, absoluteTimeout: 60, extendAfter: 0 })
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/set/a', 1)
    const cookie = jar.header()
    expect(
      await (await app.request('http://localhost/get/a', { headers: { Cookie: cookie } })).json(),
    ).toEqual({ value: 1 })
    clock.advance(60_000)
    expect(
      await (await app.request('http://localhost/get/a', { headers: { Cookie: cookie } })).json(),
    ).toEqual({ value: null })
  })
})
