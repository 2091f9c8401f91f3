import type { HitOptions, HitResult } from './types.js'

interface Item {
  value: string
  /** Epoch ms; Infinity for values that do not expire. */
  until: number
}

/** The memory store's per-user items: fixed-window counters, single-use claims and values. */
export class UserItems {
  readonly #items = new Map<string, Item>()

  /** `Store.hit`'s rules: refused past `limit` (nothing counted), gone once all is given back. */
  hit(key: string, { windowMs, by = 1, limit }: HitOptions, now: number): HitResult {
    const item = this.#items.get(key)
    const live = item !== undefined && item.until > now
    const count = live ? Number(item.value) : 0
    if (limit !== undefined && by > 0 && count + by > limit) {
      return { count, allowed: false, resetMs: live ? item.until - now : 0 }
    }
    if (count + by <= 0 && by < 0) {
      this.#items.delete(key) // everything given back: no counter is left behind
      return { count: 0, allowed: true, resetMs: 0 }
    }
    const until = live ? item.until : now + windowMs
    this.#items.set(key, { value: String(count + by), until })
    return { count: count + by, allowed: true, resetMs: until - now }
  }

  /** False when `key` was already claimed and the claim has not expired. */
  claim(key: string, ttlMs: number, now: number): boolean {
    const item = this.#items.get(key)
    if (item && item.until > now) return false
    this.#items.set(key, { value: '1', until: now + ttlMs })
    return true
  }

  get(key: string, now: number): string | null {
    const item = this.#items.get(key)
    return item && item.until > now ? item.value : null
  }

  /** Stores a value that does not expire; null deletes it. */
  put(key: string, value: string | null): void {
    if (value === null) this.#items.delete(key)
    else this.#items.set(key, { value, until: Infinity })
  }
}
