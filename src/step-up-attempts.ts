/**
 * The limits every second-factor check runs behind (TOTP codes and backup codes alike): a
 * per-window failure limit and the account lockout. Each check is reserved first, atomically,
 * from both budgets (the lockout's, then the window's), so however many run at once, at most
 * `maxFailures` codes are checked per window and the lockout's `maxFailures` before the lock;
 * a right code gives its reservations back.
 */
import { stepUpLockout, type LockoutOptions } from './lockout.js'
import type { Session } from './session/session.js'
import { kEmit } from './session/types.js'

/** The outcome of a verification; `reason` is machine-readable. */
export type TotpResult =
  | { ok: true }
  | { ok: false; reason: 'no-session' | 'not-enrolled' | 'invalid' | 'replayed' }
  | { ok: false; reason: 'rate-limited' | 'locked'; retryAfterSeconds: number }

/** A refusal of a code that was checked. */
export type CodeRefusal = { ok: false; reason: 'invalid' | 'replayed' }

const FAILURES = 'totp-failures'

/** Reports a refused code as an event and returns the refusal. */
export function refuseCode(session: Session, reason: 'invalid' | 'replayed'): CodeRefusal {
  session[kEmit]({ type: 'step-up-failed', uid: session.userId!, reason })
  return { ok: false, reason }
}

/** The limits of `totp()` (its `maxFailures`, `failureWindow` and `lockout` options). */
export function stepUpAttempts(options: {
  maxFailures: number
  failureWindow: number
  lockout: LockoutOptions | false | undefined
}) {
  const { maxFailures } = options
  const windowMs = options.failureWindow * 1000
  const lockout = stepUpLockout(options.lockout)
  return {
    /** Runs `test` (one code check of the signed-in user) behind both limits. */
    async run(
      session: Session,
      test: () => Promise<{ ok: true } | CodeRefusal>,
    ): Promise<TotpResult> {
      const grant = await lockout.begin(session)
      if (!grant.allowed)
        return { ok: false, reason: 'locked', retryAfterSeconds: grant.retryAfterSeconds }
      const attempt = await session.reserve(FAILURES, { limit: maxFailures, windowMs })
      if (!attempt.allowed) {
        await grant.attempt.released()
        session[kEmit]({ type: 'step-up-failed', uid: session.userId!, reason: 'rate-limited' })
        return {
          ok: false,
          reason: 'rate-limited',
          retryAfterSeconds: Math.ceil(attempt.resetMs / 1000),
        }
      }
      const result = await test()
      if (!result.ok) {
        await grant.attempt.failed()
        return result
      }
      await session.countEvent(FAILURES, windowMs, -1) // a right code is not a failure
      await grant.attempt.succeeded()
      return result
    },
  }
}
