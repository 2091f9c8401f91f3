import { hmac } from '@noble/hashes/hmac.js'
import { sha1 } from '@noble/hashes/legacy.js'
import { Secret, TOTP } from 'otpauth/bare'
import { AccessError, SessionRequiredError } from './errors.js'
import type { Session } from './session/session.js'
import { kEmit } from './session/types.js'

/**
 * TOTP second factor (RFC 6238) for step-up authentication, on top of a session: enrolment with
 * a provisioning URI, verification with a ±`window` step tolerance, codes single-use per user,
 * failed attempts limited per user in the store, and `session.stepUp('otp')` on success (a new
 * secret, `amr` gains `otp`, auth time now) so `requireFreshAuth()` passes.
 * TOTP secrets are kept per user in the store, sealed with the session key ring.
 */

/** Options of {@link totp}. */
export interface TotpOptions {
  /** Shown in authenticator apps. Required. */
  issuer: string
  /** Code length. Default 6. */
  digits?: number
  /** Step length, seconds. Default 30. */
  period?: number
  /** Steps of clock drift accepted either side. Default 1. */
  window?: number
  /** Codes checked per `failureWindow` and user; the checks are reserved first. Default 5. */
  maxFailures?: number
  /** Window of the failure count, seconds. Default 300. */
  failureWindow?: number
  /**
   * How recent the authentication must be to enrol, replace or remove the factor, seconds:
   * the first factor needs a primary authentication (sign-in) this recent, replacing or
   * removing it a verification with it this recent. Default 300.
   */
  freshAuthMaxAge?: number
}

/** The outcome of a verification; `reason` is machine-readable. */
export type TotpResult =
  | { ok: true }
  | { ok: false; reason: 'no-session' | 'not-enrolled' | 'invalid' | 'replayed' }
  | { ok: false; reason: 'rate-limited'; retryAfterSeconds: number }

/** Options of `startEnrolment`. */
export interface EnrolmentOptions {
  /**
   * The app checked the user's primary factor (asked for the password again) in this request:
   * the session counts as freshly authenticated (`stepUp('pwd')`). Ignored when a factor is
   * already enrolled: replacing it needs that factor.
   */
  primaryVerified?: boolean
}

const SECRET = 'totp'
const PENDING = 'totp-pending'
const FAILURES = 'totp-failures'

/**
 * Creates the TOTP helpers.
 *
 * Enrolling the first factor needs a fresh sign-in (or `primaryVerified`); replacing or
 * removing an enrolled factor needs a fresh verification with it in the same session. Every
 * change is an event (`factor-changed`), and the user's other sessions stop counting `otp`.
 * Without the freshness, enrolment throws an `AccessError` 401 `ERR_STEP_UP_REQUIRED` (the body
 * says `reason` and `methods`, as `requireFreshAuth` does).
 *
 * @example
 * ```ts
 * const otp = totp({ issuer: 'Example' })
 * app.post('/2fa/enrol', async (c) => c.json(await otp.startEnrolment(c.get('session'))))
 * app.post('/2fa/verify', async (c) => {
 *   const result = await otp.verify(c.get('session'), (await c.req.parseBody()).code as string)
 *   return result.ok ? c.json(result) : c.json(result, result.reason === 'rate-limited' ? 429 : 401)
 * })
 * ```
 */
export function totp(options: TotpOptions) {
  const {
    issuer,
    digits = 6,
    period = 30,
    window = 1,
    maxFailures = 5,
    failureWindow = 300,
    freshAuthMaxAge = 300,
  } = options
  if (typeof issuer !== 'string' || issuer === '')
    throw new Error('totp() option "issuer" is required')
  if (!(freshAuthMaxAge > 0)) throw new Error('totp() option "freshAuthMaxAge" must be positive')
  const make = (secret: string, label: string) =>
    new TOTP({
      issuer,
      label,
      algorithm: 'SHA1',
      digits,
      period,
      secret: Secret.fromBase32(secret),
      hmac: hmacSha1,
    })
  const failWindowMs = failureWindow * 1000

  /**
   * Checks a code against a secret. The check is reserved first, atomically (at most
   * `maxFailures` codes are ever checked per window, whatever the concurrency), and given back
   * when the code is right; codes are single-use per time step.
   */
  async function check(session: Session, secret: string, code: unknown): Promise<TotpResult> {
    const uid = session.userId!
    const attempt = await session.reserve(FAILURES, { limit: maxFailures, windowMs: failWindowMs })
    if (!attempt.allowed) {
      session[kEmit]({ type: 'step-up-failed', uid, reason: 'rate-limited' })
      return {
        ok: false,
        reason: 'rate-limited',
        retryAfterSeconds: Math.ceil(attempt.resetMs / 1000),
      }
    }
    const now = session.now()
    const token = typeof code === 'string' ? code.trim() : ''
    const delta = new RegExp(`^\\d{${digits}}$`).test(token)
      ? make(secret, uid).validate({ token, timestamp: now, window })
      : null
    if (delta === null) return fail(session, uid, 'invalid')
    // Single use: the time step that matched can be used once, for as long as it could match.
    const step = TOTP.counter({ period, timestamp: now }) + delta
    if (!(await session.claimOnce(`totp-step:${step}`, (2 * window + 2) * period * 1000))) {
      return fail(session, uid, 'replayed')
    }
    await session.countEvent(FAILURES, failWindowMs, -1) // a right code is not a failure
    return { ok: true }
  }

  /**
   * Refuses unless the session authenticated recently enough to change the factor: with a
   * verification of the enrolled factor, or without one, a primary authentication.
   */
  async function requireFresh(session: Session, enrolled: boolean): Promise<void> {
    const info = await session.info()
    if (!info?.userId) throw new SessionRequiredError()
    const fresh =
      info.authTime !== undefined && session.now() - info.authTime <= freshAuthMaxAge * 1000
    if (fresh && (!enrolled || info.amr.includes('otp'))) return
    throw new AccessError(401, 'ERR_STEP_UP_REQUIRED', 'Recent authentication required', {
      reason: fresh ? 'missing-method' : 'stale',
      methods: enrolled ? ['otp'] : [],
      maxAge: freshAuthMaxAge,
    })
  }

  /** The change of factor is told: an event, and `otp` stops counting in the other sessions. */
  async function changed(session: Session, change: 'enrolled' | 'replaced' | 'removed') {
    await session.revokeMethod('otp', { keepCurrent: change !== 'removed' })
    const info = await session.info()
    session[kEmit]({
      type: 'factor-changed',
      uid: session.userId!,
      method: 'otp',
      change,
      id: info!.id,
    })
  }

  const enrolled = async (session: Session) => (await session.readUserSecret(SECRET)) !== null

  return {
    /** Whether the signed-in user has a confirmed TOTP secret. */
    async isEnrolled(session: Session): Promise<boolean> {
      return session.userId !== undefined && (await enrolled(session))
    },

    /** The enrolment waiting for confirmation, if any (to show its QR code again). */
    async pendingEnrolment(session: Session): Promise<{ secret: string; uri: string } | null> {
      const uid = session.userId
      const secret = uid === undefined ? null : await session.readUserSecret(PENDING)
      return secret === null ? null : { secret, uri: make(secret, uid!).toString() }
    },

    /**
     * Starts enrolment: a new secret (kept pending until confirmed) and its provisioning URI.
     * @throws AccessError 401 `ERR_STEP_UP_REQUIRED` without the freshness described above
     */
    async startEnrolment(
      session: Session,
      options: EnrolmentOptions = {},
    ): Promise<{ secret: string; uri: string }> {
      const uid = session.userId
      if (uid === undefined) throw new SessionRequiredError()
      const has = await enrolled(session)
      if (options.primaryVerified && !has) session.stepUp('pwd')
      else await requireFresh(session, has)
      const secret = new Secret({ size: 20 }).base32
      await session.writeUserSecret(PENDING, secret)
      return { secret, uri: make(secret, uid).toString() }
    },

    /**
     * Confirms enrolment with a first code of the new secret. It replaces an enrolled factor
     * only with a fresh verification of it; it is a step-up only for a first factor (the
     * session was freshly authenticated). The user's other sessions stop counting `otp`.
     * @throws AccessError 401 `ERR_STEP_UP_REQUIRED` without the freshness described above
     */
    async confirmEnrolment(session: Session, code: unknown): Promise<TotpResult> {
      if (session.userId === undefined) return { ok: false, reason: 'no-session' }
      const pending = await session.readUserSecret(PENDING)
      if (pending === null) return { ok: false, reason: 'not-enrolled' }
      const has = await enrolled(session)
      await requireFresh(session, has)
      const result = await check(session, pending, code)
      if (!result.ok) return result
      await session.writeUserSecret(SECRET, pending)
      await session.writeUserSecret(PENDING, null)
      await changed(session, has ? 'replaced' : 'enrolled')
      if (!has) session.stepUp('otp')
      return result
    },

    /**
     * Removes the factor; needs a fresh verification with it. Every session of the user,
     * this one included, stops counting `otp`.
     * @throws AccessError 401 `ERR_STEP_UP_REQUIRED` without a fresh verification
     */
    async disable(session: Session): Promise<TotpResult> {
      if (session.userId === undefined) return { ok: false, reason: 'no-session' }
      if (!(await enrolled(session))) return { ok: false, reason: 'not-enrolled' }
      await requireFresh(session, true)
      await session.writeUserSecret(SECRET, null)
      await session.writeUserSecret(PENDING, null)
      await changed(session, 'removed')
      return { ok: true }
    },

    /** Step-up: checks a code; on success records the second factor on the session. */
    async verify(session: Session, code: unknown): Promise<TotpResult> {
      if (session.userId === undefined) return { ok: false, reason: 'no-session' }
      const secret = await session.readUserSecret(SECRET)
      if (secret === null) return { ok: false, reason: 'not-enrolled' }
      const result = await check(session, secret, code)
      if (result.ok) session.stepUp('otp')
      return result
    },

    /** The current code for a secret (tests and tooling). */
    generate(secret: string, timestamp: number): string {
      return make(secret, 'x').generate({ timestamp })
    },
  }
}

/** Reports a refused code as an event and returns the refusal. */
function fail(session: Session, uid: string, reason: 'invalid' | 'replayed'): TotpResult {
  session[kEmit]({ type: 'step-up-failed', uid, reason })
  return { ok: false, reason }
}

/**
 * HMAC-SHA1 (what authenticator apps use) from @noble/hashes, given to otpauth's bare build so
 * the bundle carries SHA-1 only, not every hash otpauth supports.
 */
function hmacSha1(algorithm: string, key: Uint8Array, message: Uint8Array): Uint8Array {
  if (algorithm.toUpperCase() !== 'SHA1') throw new Error(`unsupported TOTP algorithm ${algorithm}`)
  return hmac(sha1, key, message)
}
