import type { Context, MiddlewareHandler } from 'hono'
import { RateLimitError, StoreError } from '../errors.js'
import { rateLimiter, type RateLimiterOptions, type RateLimitResult } from './limiter.js'

/** Options of {@link rateLimit}. */
export interface RateLimitOptions extends RateLimiterOptions {
  /**
   * What a request is counted under: the client's address (`clientAddress(...)`), a user id,
   * an API key. `undefined` leaves the request out of this limit. Never a header the client
   * can set freely, or the limit is one new header value away.
   */
  key: (c: Context) => string | undefined | Promise<string | undefined>
  /**
   * With the store down: `fail-closed` (default) answers 503 `ERR_SESSION_STORE` with
   * `Retry-After: 1`; `fail-open` serves the request unlimited.
   */
  onStoreError?: 'fail-closed' | 'fail-open'
}

/**
 * The headers of a limiter's answer: `RateLimit-Limit`, `RateLimit-Remaining`,
 * `RateLimit-Reset` (seconds until the window ends) and `RateLimit-Policy` (`<limit>;w=<window
 * seconds>`), as draft-ietf-httpapi-ratelimit-headers-06 names them.
 */
export function rateLimitHeaders(r: RateLimitResult): Record<string, string> {
  return {
    'RateLimit-Limit': String(r.limit),
    'RateLimit-Remaining': String(r.remaining),
    'RateLimit-Reset': String(Math.ceil(r.resetMs / 1000)),
    'RateLimit-Policy': `${r.limit};w=${Math.ceil(r.windowMs / 1000)}`,
  }
}

/**
 * Rate limiting middleware: counts each request under `key(c)` against `limit` requests per
 * `windowMs` (a fixed window from the key's first request; see {@link rateLimiter}), one atomic
 * store call per limited request. Allowed responses carry the `RateLimit-*` headers; past the
 * limit it answers 429 `{ "error": "Too many requests", "code": "ERR_RATE_LIMITED" }` with
 * `Retry-After` (a {@link RateLimitError}, rendered by Hono's error handler). A key that is not
 * well-formed text of 1 to 1024 characters is 400 `ERR_SESSION_INPUT`.
 *
 * @example
 * ```ts
 * import { getConnInfo } from '@hono/node-server/conninfo'
 * import { clientAddress, rateLimit } from 'hono-redis-session'
 *
 * app.use(
 *   '/api/*',
 *   rateLimit({
 *     store, // the sessions' store, or another one
 *     name: 'api',
 *     limit: 100,
 *     windowMs: 60_000,
 *     key: clientAddress({ connection: (c) => getConnInfo(c).remote.address }),
 *   }),
 * )
 * ```
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const { key, onStoreError = 'fail-closed' } = options
  if (typeof key !== 'function') throw new Error('Rate limit option "key" must be a function')
  if (onStoreError !== 'fail-closed' && onStoreError !== 'fail-open') {
    throw new Error('Rate limit option "onStoreError" must be "fail-closed" or "fail-open"')
  }
  const limiter = rateLimiter(options)
  return async (c, next) => {
    const value = await key(c)
    if (value === undefined) return next()
    let result: RateLimitResult
    try {
      result = await limiter.take(value)
    } catch (err) {
      if (err instanceof StoreError && onStoreError === 'fail-open') return next()
      throw err
    }
    const headers = rateLimitHeaders(result)
    if (!result.allowed) {
      throw new RateLimitError(Math.max(1, Math.ceil(result.resetMs / 1000)), headers)
    }
    await next()
    for (const [name, value] of Object.entries(headers)) c.header(name, value)
  }
}
