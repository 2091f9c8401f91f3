/**
 * Expiry arithmetic: a sliding idle deadline under a fixed absolute deadline. The cookie
 * `Max-Age` and the store TTL are both derived from the same `expiresAt`, so they move together.
 * All instants are epoch milliseconds; option values are seconds.
 */

export interface ExpiryOptions {
  /** Idle timeout, seconds. Default 86400 (1 day). */
  idleTimeout?: number
  /** Absolute lifetime from creation, seconds. Default 604800 (7 days). */
  absoluteTimeout?: number
  /** Fraction of the idle window that must pass before it is extended. Default 0.5. */
  extendAfter?: number
}

export interface ExpiryPolicy {
  idleMs: number
  absoluteMs: number
  extendAfter: number
}

/** Validates the options once, at start-up. */
export function expiryPolicy(options: ExpiryOptions = {}): ExpiryPolicy {
  const { idleTimeout = 86_400, absoluteTimeout = 604_800, extendAfter = 0.5 } = options
  for (const [name, v] of [
    ['idleTimeout', idleTimeout],
    ['absoluteTimeout', absoluteTimeout],
  ] as const) {
    if (!Number.isFinite(v) || v < 1)
      throw new Error(`Session option "${name}" must be at least 1 second`)
  }
  if (absoluteTimeout < idleTimeout) {
    throw new Error('Session option "absoluteTimeout" must not be shorter than "idleTimeout"')
  }
  if (!(extendAfter >= 0 && extendAfter <= 1)) {
    throw new Error('Session option "extendAfter" must be between 0 and 1')
  }
  return { idleMs: idleTimeout * 1000, absoluteMs: absoluteTimeout * 1000, extendAfter }
}

/** Deadlines of a session created at `now`. The absolute one is a whole second (the token's exp). */
export function initialDeadlines(
  now: number,
  policy: ExpiryPolicy,
): { expiresAt: number; absoluteExpiresAt: number } {
  const absoluteExpiresAt = Math.floor((now + policy.absoluteMs) / 1000) * 1000
  return { expiresAt: Math.min(now + policy.idleMs, absoluteExpiresAt), absoluteExpiresAt }
}

/**
 * When a load or commit should extend, and to where: once `extendAfter` of the idle window has
 * passed, i.e. when the deadline is at or before `now + idle * (1 - extendAfter)`.
 */
export function extension(
  now: number,
  absoluteExpiresAt: number,
  policy: ExpiryPolicy,
): { now: number; extendIfBefore: number; extendTo: number } {
  return {
    now,
    extendIfBefore: now + Math.floor(policy.idleMs * (1 - policy.extendAfter)),
    extendTo: Math.min(now + policy.idleMs, absoluteExpiresAt),
  }
}

/** Cookie `Max-Age` in whole seconds, rounded down so it never outlives the store entry. */
export function maxAgeSeconds(now: number, expiresAt: number, absoluteExpiresAt: number): number {
  return Math.max(0, Math.floor((Math.min(expiresAt, absoluteExpiresAt) - now) / 1000))
}
