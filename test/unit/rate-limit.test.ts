import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { clientAddress, rateLimit, rateLimitHeaders } from '../../src/index.js'
import { RateCounters } from '../../src/store/memory-rate.js'
import { memoryStore } from '../../src/store/memory.js'
import { fakeClock } from '../helpers/session-app.js'

describe('rateLimit with the memory store and the caller clock', () => {
  it('headers count down, 429 says when to retry, the next window starts afresh', async () => {
    const clock = fakeClock()
    const app = new Hono()
    const store = memoryStore()
    app.use(rateLimit({ store, limit: 2, windowMs: 10_000, key: () => 'k', now: clock.now }))
    app.get('/', (c) => c.text('ok'))
    const at = async (ms: number) => {
      clock.set(Date.UTC(2026, 0, 1) + ms)
      const res = await app.request('/')
      return {
        status: res.status,
        remaining: res.headers.get('RateLimit-Remaining'),
        reset: res.headers.get('RateLimit-Reset'),
        retryAfter: res.headers.get('Retry-After'),
      }
    }
    expect(await at(0)).toEqual({ status: 200, remaining: '1', reset: '10', retryAfter: null })
    expect(await at(4000)).toEqual({ status: 200, remaining: '0', reset: '6', retryAfter: null })
    expect(await at(5500)).toEqual({ status: 429, remaining: '0', reset: '5', retryAfter: '5' })
    expect(await at(10_000)).toEqual({ status: 200, remaining: '1', reset: '10', retryAfter: null })
  })

  it('the headers of an answer', () => {
    expect(
      rateLimitHeaders({
        allowed: true,
        limit: 100,
        remaining: 7,
        resetMs: 1001,
        windowMs: 90_500,
      }),
    ).toEqual({
      'RateLimit-Limit': '100',
      'RateLimit-Remaining': '7',
      'RateLimit-Reset': '2',
      'RateLimit-Policy': '100;w=91',
    })
  })
})

describe('clientAddress', () => {
  const request = (xff?: string) =>
    ({ req: { header: (name: string) => (name === 'X-Forwarded-For' ? xff : undefined) } }) as never
  const connection = () => '10.0.0.9'

  it('never reads X-Forwarded-For by default', () => {
    const key = clientAddress({ connection })
    expect(key(request('1.1.1.1'))).toBe('10.0.0.9')
    expect(key(request())).toBe('10.0.0.9')
    expect(clientAddress({ connection: () => '' })(request('1.1.1.1'))).toBeUndefined()
  })

  it('with n trusted proxies: the n-th entry from the right, else the connection', () => {
    const two = clientAddress({ connection, trustedProxies: 2 })
    expect(two(request('6.6.6.6, 203.0.113.5, 10.0.0.2'))).toBe('203.0.113.5')
    expect(two(request('10.0.0.2'))).toBe('10.0.0.9')
    expect(two(request())).toBe('10.0.0.9')
    const one = clientAddress({ connection, trustedProxies: 1 })
    expect(one(request('6.6.6.6,203.0.113.5'))).toBe('203.0.113.5')
  })
})

describe('the memory store rate counters', () => {
  it('stay within maxRateKeys under a flood of new keys, and sweep ended windows', () => {
    const counters = new RateCounters(100, 8)
    const now = Date.now()
    for (let i = 0; i < 5000; i++) counters.hit(`k:${i}`, { windowMs: 1000, limit: 5, now })
    expect(counters.size).toBe(100)
    // the newest keys are the ones kept
    expect(counters.hit('k:4999', { windowMs: 1000, limit: 5, now, by: 0 }).count).toBe(1)
    expect(counters.size).toBe(100)
    for (let i = 0; i < 20; i++)
      counters.hit('late', { windowMs: 1000, limit: 50, now: now + 2000 })
    expect(counters.size).toBe(1)
  })
})
