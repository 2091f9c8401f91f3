import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expiryPolicy, extension, initialDeadlines, maxAgeSeconds } from '../../src/expiry.js'

describe('expiry arithmetic: a sliding idle deadline under a fixed absolute one', () => {
  it('refuses options that cannot describe a session', () => {
    expect(() => expiryPolicy({ idleTimeout: 0 })).toThrow(/"idleTimeout" must be at least 1/)
    expect(() => expiryPolicy({ absoluteTimeout: Number.NaN })).toThrow(/"absoluteTimeout"/)
    expect(() => expiryPolicy({ idleTimeout: 60, absoluteTimeout: 30 })).toThrow(
      /must not be shorter than "idleTimeout"/,
    )
    expect(() => expiryPolicy({ extendAfter: 1.5 })).toThrow(/between 0 and 1/)
    expect(expiryPolicy()).toEqual({
      idleMs: 86_400_000,
      absoluteMs: 604_800_000,
      extendAfter: 0.5,
    })
  })

  it('a new session: idle deadline ahead, absolute deadline a whole second (the token exp)', () => {
    const policy = expiryPolicy({ idleTimeout: 60, absoluteTimeout: 3600 })
    const now = 1_700_000_000_123
    expect(initialDeadlines(now, policy)).toEqual({
      expiresAt: now + 60_000,
      absoluteExpiresAt: 1_700_003_600_000,
    })
    // idle equal to absolute: the idle deadline never passes the absolute one
    const same = initialDeadlines(now, expiryPolicy({ idleTimeout: 60, absoluteTimeout: 60 }))
    expect(same.expiresAt).toBe(same.absoluteExpiresAt)
  })

  it('extends only once extendAfter of the idle window has passed, never past the absolute deadline', () => {
    const policy = expiryPolicy({ idleTimeout: 100, absoluteTimeout: 1000, extendAfter: 0.25 })
    expect(extension(10_000, 1_000_000, policy)).toEqual({
      now: 10_000,
      extendIfBefore: 10_000 + 75_000,
      extendTo: 110_000,
    })
    expect(extension(10_000, 50_000, policy).extendTo).toBe(50_000)
  })

  it('for any times: Max-Age never outlives the store entry and is never negative', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        (now, expiresAt, absoluteExpiresAt) => {
          const maxAge = maxAgeSeconds(now, expiresAt, absoluteExpiresAt)
          expect(Number.isInteger(maxAge)).toBe(true)
          expect(maxAge).toBeGreaterThanOrEqual(0)
          if (maxAge > 0)
            expect(now + maxAge * 1000).toBeLessThanOrEqual(Math.min(expiresAt, absoluteExpiresAt))
        },
      ),
    )
  })
})
