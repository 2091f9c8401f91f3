/**
 * Attack: escaping the demo's per-client sign-in limit by sending a new `X-Forwarded-For` with
 * every guess. The demo takes the client's address from the connection (a header is read only
 * behind `TRUST_PROXY=1`, and then only the entry the trusted proxy appended), so a header the
 * client writes changes nothing. better-auth 1.7 keys its limiter on a single-valued
 * `X-Forwarded-For` by default: `npm run bench:probes` counts 0 refusals of 200 such guesses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOGIN_LIMITS } from '../../../demo/login-throttle.js'
import { stopAll } from '../../helpers/redis.js'
import { startTarget, type Target } from './harness.js'

let t: Target
beforeAll(async () => {
  t = await startTarget()
})
afterAll(async () => {
  await t.close()
  await stopAll()
})

describe('attack: a new X-Forwarded-For per guess', () => {
  it('200 wrong passwords for 200 user names: the per-client limit still refuses past 100', async () => {
    const statuses: Record<string, number> = {}
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${t.served.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          Origin: t.served.origin,
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Forwarded-For': `203.0.${i >> 8}.${i & 255}`,
        },
        // a user name of its own each time: only the per-client limit can stop these
        body: new URLSearchParams({ username: `guess-${i}`, password: 'wrong' }),
      })
      await res.arrayBuffer()
      statuses[res.status] = (statuses[res.status] ?? 0) + 1
    }
    expect(LOGIN_LIMITS.perClient).toBe(100)
    expect(statuses).toEqual({ 401: 100, 429: 100 })
  })
})
