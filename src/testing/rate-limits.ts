import { beforeAll, expect, it } from 'vitest'
import type { RateHitOptions, Store } from '../store/types.js'
import type { SuiteContext } from './context.js'

/** Rate limits of no user (`rateHit`): a fixed window per key, check and count in one step. */
export function rateLimitCases(suite: SuiteContext): void {
  let store: Store
  let rateHit: (key: string, o: RateHitOptions) => ReturnType<NonNullable<Store['rateHit']>>
  beforeAll(() => {
    store = suite.store()
    rateHit = (key, o) => store.rateHit!(key, o)
  })
  const key = (label: string) => `suite:${suite.uniqueUser(label)}`

  it('rateHit counts per key and window, refuses past the limit, gives back', async () => {
    const k = key('rate')
    const o = { windowMs: 60_000, limit: 2, now: Date.now() }
    expect(await rateHit(k, o)).toMatchObject({ count: 1, allowed: true })
    expect(await rateHit(k, o)).toMatchObject({ count: 2, allowed: true })
    const refused = await rateHit(k, o)
    expect(refused).toMatchObject({ count: 2, allowed: false })
    expect(refused.resetMs).toBeGreaterThan(0)
    expect(refused.resetMs).toBeLessThanOrEqual(60_000)
    expect(await rateHit(k, { ...o, by: 0 })).toMatchObject({ count: 2, allowed: true })
    expect(await rateHit(k, { ...o, by: -1 })).toMatchObject({ count: 1, allowed: true })
    expect(await rateHit(k, o)).toMatchObject({ count: 2, allowed: true })
    // given back to nothing: the counter and its window are gone
    expect(await rateHit(k, { ...o, by: -2 })).toEqual({ count: 0, allowed: true, resetMs: 0 })
    expect(await rateHit(key('other'), o)).toMatchObject({ count: 1, allowed: true })
    // a window that ended starts again
    const short = key('short')
    const s = { windowMs: 50, limit: 1, now: Date.now() }
    expect((await rateHit(short, s)).allowed).toBe(true)
    expect((await rateHit(short, s)).allowed).toBe(false)
    await new Promise((r) => setTimeout(r, 80))
    expect(await rateHit(short, { ...s, now: Date.now() })).toMatchObject({
      count: 1,
      allowed: true,
    })
  })

  it('rateHit checks and counts in one step: of 100 parallel calls exactly the limit pass', async () => {
    const k = key('burst')
    const o = { windowMs: 60_000, limit: 10, now: Date.now() }
    const results = await Promise.all(Array.from({ length: 100 }, () => rateHit(k, o)))
    const allowed = results.filter((r) => r.allowed)
    expect(allowed.map((r) => r.count).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ])
    for (const r of results.filter((x) => !x.allowed)) expect(r.count).toBe(10)
  })

  it('rateHit refuses keys outside [A-Za-z0-9._:-]{1,200}, changing nothing', async () => {
    const o = { windowMs: 60_000, limit: 1, now: Date.now() }
    for (const bad of ['', 'a{b}', 'with space', 'x'.repeat(201)]) {
      await expect(rateHit(bad, o)).rejects.toThrow()
    }
    expect((await rateHit(key('fine'), o)).allowed).toBe(true)
  })
}
