import { beforeAll, expect, it } from 'vitest'
import type { Store } from '../store/types.js'
import type { SuiteContext } from './context.js'

/** Per-user items: fixed-window counters with and without a limit, single-use claims, values. */
export function itemCases(suite: SuiteContext): void {
  const { uniqueUser } = suite
  let store: Store
  beforeAll(() => {
    store = suite.store()
  })

  it('hit counts per user and window; claim marks once; user values round-trip', async () => {
    const uid = uniqueUser('rl')
    const count = async (u: string, name: string, windowMs: number, by?: number) =>
      (await store.hit(u, name, { windowMs, by })).count
    expect(await count(uid, 'otp-fail', 60_000)).toBe(1)
    expect(await count(uid, 'otp-fail', 60_000)).toBe(2)
    expect(await count(uid, 'otp-fail', 60_000, 0)).toBe(2)
    expect(await count(uid, 'otp-fail', 60_000, -1)).toBe(1)
    // given back to nothing: the counter is gone, its window too
    expect(await store.hit(uid, 'otp-fail', { windowMs: 60_000, by: -1 })).toEqual({
      count: 0,
      allowed: true,
      resetMs: 0,
    })
    expect(await store.hit(uid, 'otp-fail', { windowMs: 60_000, by: 0 })).toMatchObject({
      count: 0,
    })
    expect(await count(uid, 'peek', 60_000, 0)).toBe(0)
    expect(await count(uniqueUser('rl2'), 'otp-fail', 60_000)).toBe(1)
    expect(await count(uid, 'short', 50)).toBe(1)
    await new Promise((r) => setTimeout(r, 80))
    expect(await count(uid, 'short', 50)).toBe(1)
    expect(await store.claim(uid, 'otp:123456', 60_000)).toBe(true)
    expect(await store.claim(uid, 'otp:123456', 60_000)).toBe(false)
    expect(await store.claim(uniqueUser('c'), 'otp:123456', 60_000)).toBe(true)
    expect(await store.getUserValue(uid, 'totp')).toBeNull()
    await store.setUserValue(uid, 'totp', 'sealed-secret')
    expect(await store.getUserValue(uid, 'totp')).toBe('sealed-secret')
    await store.setUserValue(uid, 'totp', null)
    expect(await store.getUserValue(uid, 'totp')).toBeNull()
    await expect(store.hit(uid, 'bad name!', { windowMs: 1000 })).rejects.toThrow()
  })

  it('hit with a limit counts and checks in one step: parallel callers never pass it', async () => {
    const uid = uniqueUser('lim')
    const results = await Promise.all(
      Array.from({ length: 50 }, () => store.hit(uid, 'tries', { windowMs: 60_000, limit: 5 })),
    )
    expect(results.filter((r) => r.allowed)).toHaveLength(5)
    expect(
      results
        .filter((r) => r.allowed)
        .map((r) => r.count)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5])
    for (const r of results.filter((x) => !x.allowed)) {
      expect(r.count).toBe(5)
      expect(r.resetMs).toBeGreaterThan(0)
      expect(r.resetMs).toBeLessThanOrEqual(60_000)
    }
    // giving one back makes room for exactly one more
    expect((await store.hit(uid, 'tries', { windowMs: 60_000, by: -1 })).count).toBe(4)
    expect((await store.hit(uid, 'tries', { windowMs: 60_000, limit: 5 })).allowed).toBe(true)
    expect((await store.hit(uid, 'tries', { windowMs: 60_000, limit: 5 })).allowed).toBe(false)
  })
}
