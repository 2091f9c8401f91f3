import { base64url } from 'jose'
import { isWellFormed } from '../bytes.js'
import { cryptoBackend } from '../crypto/backend.js'
import {
  SessionError,
  SessionInputError,
  SessionStateError,
  StoreError,
  withTimeout,
} from '../errors.js'
import type { HitResult, Store } from '../store/types.js'

/** Options of {@link rateLimiter}. */
export interface RateLimiterOptions {
  /** Where the counters live: any store with `rateHit` (memory, ioredis, Upstash). */
  store: Store
  /** Requests allowed per key and window (a positive integer). */
  limit: number
  /** Length of a window, milliseconds (a positive integer; it starts at a key's first request). */
  windowMs: number
  /**
   * Keeps this limiter's counters apart from other limiters' on the same store: 1 to 64 of
   * `[A-Za-z0-9._-]`. Default `default`: give every limiter with its own budget its own name.
   */
  name?: string
  /** Upper bound of a store call when the store does not bound its own, milliseconds. Default 2000. */
  timeoutMs?: number
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number
}

/** What one request found: the answer of a limiter. */
export interface RateLimitResult {
  /** Whether the request was counted (false: over the limit, nothing counted). */
  allowed: boolean
  /** The limit of the policy. */
  limit: number
  /** Requests left in the current window. */
  remaining: number
  /** Milliseconds until the current window ends (0: no window open). */
  resetMs: number
  /** The window's length, milliseconds. */
  windowMs: number
}

/** A limiter: counts requests per key against one policy, each count one store call. */
export interface RateLimiter {
  readonly limit: number
  readonly windowMs: number
  /** Counts one request for `key` (refused, nothing counted, past the limit). */
  take(key: string): Promise<RateLimitResult>
  /** Gives one counted request back (e.g. an attempt that succeeded and should not count). */
  giveBack(key: string): Promise<RateLimitResult>
}

/** Longest key value accepted, in UTF-16 code units (a key is hashed before it is stored). */
export const MAX_RATE_KEY_LENGTH = 1024
const NAME = /^[A-Za-z0-9._-]{1,64}$/

/**
 * A fixed-window rate limiter on a store: each key gets `limit` requests per window, the window
 * starting at the key's first counted request. Check and count are one atomic store call (one
 * Redis script: no number of parallel requests gets past the limit). Key values are hashed
 * (SHA-256) before they reach the store, so any text of up to {@link MAX_RATE_KEY_LENGTH}
 * characters is a key and none shows up in Redis. The `rateLimit` middleware is built on it;
 * use it directly for limits that count only some outcomes (failed sign-ins).
 *
 * A fixed window (not a sliding one): exact and one counter per key, at the price of allowing
 * up to twice the limit across the end of one window and the start of the next.
 *
 * @example
 * ```ts
 * const failures = rateLimiter({ store, name: 'login', limit: 10, windowMs: 15 * 60_000 })
 * const taken = await failures.take(username) // before the password is checked
 * if (!taken.allowed) return c.text('Too many attempts', 429)
 * if (passwordIsRight) await failures.giveBack(username) // only failures count
 * ```
 */
export function rateLimiter(options: RateLimiterOptions): RateLimiter {
  const { store, limit, windowMs, name = 'default', timeoutMs = 2000, now = Date.now } = options
  for (const [option, n] of Object.entries({ limit, windowMs, timeoutMs })) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new Error(`Rate limit option "${option}" must be a positive integer`)
    }
  }
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new Error('Rate limit option "name" must be 1 to 64 of [A-Za-z0-9._-]')
  }
  const rateHit = store?.rateHit?.bind(store)
  if (!rateHit) throw new Error('Rate limit option "store" must be a store with rateHit()')
  const own = store.timeoutMs
  const selfBounded = typeof own === 'number' && own >= 0 && own <= timeoutMs

  const count = async (key: string, by: number): Promise<RateLimitResult> => {
    const hashed = `${name}:${await hashKey(key)}`
    const call = rateHit(hashed, { windowMs, limit, by, now: now() })
    let hit: HitResult
    try {
      hit = await (selfBounded ? call : withTimeout(call, timeoutMs, 'rate limit store'))
    } catch (err) {
      throw err instanceof SessionError ? err : new StoreError('rate limit store call failed')
    }
    const remaining = Math.max(0, limit - hit.count)
    return { allowed: hit.allowed, limit, remaining, resetMs: hit.resetMs, windowMs }
  }
  return {
    limit,
    windowMs,
    take: (key) => count(key, 1),
    giveBack: (key) => count(key, -1),
  }
}

/** base64url(SHA-256(key)) of a checked key value. */
async function hashKey(key: unknown): Promise<string> {
  if (typeof key !== 'string') throw new SessionStateError('a rate limit key must be a string')
  if (key.length === 0 || key.length > MAX_RATE_KEY_LENGTH || !isWellFormed(key)) {
    throw new SessionInputError(
      `rate limit key must be well-formed text of 1 to ${MAX_RATE_KEY_LENGTH} characters`,
    )
  }
  return base64url.encode(await cryptoBackend().sha256(new TextEncoder().encode(key)))
}
