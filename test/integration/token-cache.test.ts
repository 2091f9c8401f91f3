import { describe, expect, it } from 'vitest'
import { TokenCache } from '../../src/token-cache.js'
import { CookieJar, fakeClock, send, sessionApp } from '../helpers/session-app.js'

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
