/**
 * Account lockout across challenges: the failed second-factor attempts of a user are counted in
 * the store over any number of sign-ins and sessions; at `maxFailures` the user's step-up is
 * locked for `duration` seconds. Attempts are reserved before the code is checked, so however
 * many run at once at most `maxFailures` codes are ever checked before the lock.
 */
import type { Session } from './session/session.js'
import { kEmit } from './session/types.js'

/** Options of the lockout (`totp({ lockout })`). */
export interface LockoutOptions {
  /** Failed second-factor attempts before the lock. Default 10. */
  maxFailures?: number
  /** How long the lock lasts, seconds. Default 900 (15 minutes). */
  duration?: number
  /**
   * How long failures are remembered, seconds, counted from the first one; a right code forgets
   * them sooner. Default 86400 (a day).
   */
  window?: number
}

/** An attempt that may check a code: tell how it ended. */
export interface Attempt {
  /** The code was right: the failures are forgotten. */
  succeeded(): Promise<void>
  /** The code was wrong: it counts, and the last failure allowed locks the step-up. */
  failed(): Promise<void>
  /** No code was checked after all (another limit refused it): the attempt is given back. */
  released(): Promise<void>
}

/** The attempt may go on, or the step-up is locked for `retryAfterSeconds`. */
export type AttemptGrant =
  { allowed: true; attempt: Attempt } | { allowed: false; retryAfterSeconds: number }

const FAILURES = 'mfa-failures'
const LOCK = 'mfa-lock'
const NO_LOCKOUT: Attempt = {
  succeeded: async () => {},
  failed: async () => {},
  released: async () => {},
}

/**
 * The lockout of {@link LockoutOptions}, or none with `false`.
 *
 * Two per-user counters: the failures (`mfa-failures`, at most `maxFailures` reserved) and the
 * lock (`mfa-lock`, a window of `duration`). The last failure allowed starts the lock, then
 * clears the failures; every attempt reads the lock after its reservation, so one reserved after
 * the clearing sees the lock (both live in the user's slot, one Redis: the order holds).
 */
export function stepUpLockout(options: LockoutOptions | false = {}) {
  if (options === false) {
    return { begin: async (): Promise<AttemptGrant> => ({ allowed: true, attempt: NO_LOCKOUT }) }
  }
  const { maxFailures = 10, duration = 900, window = 86_400 } = options
  if (!Number.isSafeInteger(maxFailures) || maxFailures < 1)
    throw new Error('lockout option "maxFailures" must be a positive integer')
  if (!(duration > 0)) throw new Error('lockout option "duration" must be positive seconds')
  if (!(window > 0)) throw new Error('lockout option "window" must be positive seconds')
  const lockMs = Math.ceil(duration * 1000)
  const windowMs = Math.ceil(window * 1000)
  /** The lock's time left, milliseconds; 0 when there is none (a read: limit 0 adds nothing). */
  const lockLeft = async (session: Session) => {
    const lock = await session.reserve(LOCK, { limit: 0, windowMs: lockMs })
    return lock.count > 0 ? Math.max(lock.resetMs, 1) : 0
  }
  const forget = (session: Session) => session.countEvent(FAILURES, windowMs, -maxFailures)
  const refuse = (session: Session, ms: number): AttemptGrant => {
    session[kEmit]({ type: 'step-up-failed', uid: session.userId!, reason: 'locked' })
    return { allowed: false, retryAfterSeconds: Math.ceil(ms / 1000) }
  }

  return {
    /** Reserves an attempt for the signed-in user, or finds the step-up locked. */
    async begin(session: Session): Promise<AttemptGrant> {
      const reserved = await session.reserve(FAILURES, { limit: maxFailures, windowMs })
      // refused: the last attempt allowed is in flight, or it failed and the lock is starting
      if (!reserved.allowed) return refuse(session, (await lockLeft(session)) || lockMs)
      const left = await lockLeft(session)
      if (left > 0) {
        await session.countEvent(FAILURES, windowMs, -1)
        return refuse(session, left)
      }
      const last = reserved.count >= maxFailures
      return {
        allowed: true,
        attempt: {
          succeeded: async () => void (await forget(session)),
          released: async () => void (await session.countEvent(FAILURES, windowMs, -1)),
          async failed() {
            if (!last) return
            // the lock first, then a new budget: an attempt reserved from it sees the lock
            await session.countEvent(LOCK, lockMs, 1)
            await forget(session)
            session[kEmit]({
              type: 'step-up-locked',
              uid: session.userId!,
              failures: maxFailures,
              durationSeconds: duration,
            })
          },
        },
      }
    },
  }
}
