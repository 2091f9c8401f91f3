import { SessionInputError } from '../errors.js'
import { RATE_KEY, type HitResult, type RateHitOptions } from './types.js'

interface Window {
  count: number
  /** Epoch ms (the caller's clock) when the window ends. */
  until: number
}

/**
 * The memory store's rate limit counters (`Store.rateHit`): fixed windows against the caller's
 * clock, bounded in number. Windows are kept in the order they started, so the oldest is at the
 * front: each call drops up to `sweepBatch` ended ones from there, and a new key past `maxKeys`
 * evicts the oldest window (the one closest to its end when the limiters share a window).
 */
export class RateCounters {
  readonly #windows = new Map<string, Window>()
  readonly #maxKeys: number
  readonly #sweepBatch: number

  constructor(maxKeys = 100_000, sweepBatch = 64) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new Error('Memory store option "maxRateKeys" must be a positive integer')
    }
    this.#maxKeys = maxKeys
    this.#sweepBatch = sweepBatch
  }

  get size(): number {
    return this.#windows.size
  }

  hit(key: string, { windowMs, limit, by = 1, now }: RateHitOptions): HitResult {
    if (!RATE_KEY.test(key)) throw new SessionInputError('invalid rate limit key')
    this.#sweep(now)
    const open = this.#windows.get(key)
    const live = open !== undefined && open.until > now
    const count = live ? open.count : 0
    if (by > 0 && count + by > limit) {
      return { count, allowed: false, resetMs: live ? open.until - now : 0 }
    }
    if (by < 0 && count + by <= 0) {
      this.#windows.delete(key) // everything given back: nothing is left behind
      return { count: 0, allowed: true, resetMs: 0 }
    }
    // a window that starts again goes to the back: the front stays the oldest
    if (!live) this.#windows.delete(key)
    const until = live ? open.until : now + windowMs
    if (!live && this.#windows.size >= this.#maxKeys) {
      this.#windows.delete(this.#windows.keys().next().value!)
    }
    this.#windows.set(key, { count: count + by, until })
    return { count: count + by, allowed: true, resetMs: until - now }
  }

  #sweep(now: number): void {
    let n = 0
    for (const [key, w] of this.#windows) {
      if (n++ >= this.#sweepBatch || w.until > now) return
      this.#windows.delete(key)
    }
  }
}
