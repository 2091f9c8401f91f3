import { hmac } from '@noble/hashes/hmac.js'
import { sha1 } from '@noble/hashes/legacy.js'
import { Secret, TOTP } from 'otpauth/bare'
import { backupCodes, type BackupCodeOptions } from './backup-codes.js'
import { AccessError, SessionRequiredError } from './errors.js'
import type { LockoutOptions } from './lockout.js'
import { meetsMethod } from './methods.js'
import type { Session } from './session/session.js'
import { kEmit } from './session/types.js'
import { refuseCode, stepUpAttempts, type TotpResult } from './step-up-attempts.js'

/**
 * TOTP second factor (RFC 6238) for step-up authentication, on top of a session: enrolment with
 * a provisioning URI, verification with a ±`window` step tolerance, codes single-use per user,
 * failed attempts limited per user in the store, and `session.stepUp('otp')` on success (a new
 * secret, `amr` gains `otp`, auth time now) so `requireFreshAuth()` passes.
 * TOTP secrets are kept per user in the store, sealed with the session key ring. Backup codes
 * (`otp.backupCodes`, method `backup`, which counts as `otp`) and an account lockout across
 * sign-ins (option `lockout`) come with it.
 */

export type { BackupCodeOptions, BackupCodeResult } from './backup-codes.js'
export type { LockoutOptions } from './lockout.js'
export type { TotpResult } from './step-up-attempts.js'

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
  /** Backup codes: how many in a set (default 10), and their hashing cost. */
  backupCodes?: BackupCodeOptions
  /**
   * Account lockout across challenges: after `maxFailures` failed codes (TOTP or backup) over
   * any number of sign-ins, the user's step-up is locked for `duration` seconds. Default
   * `{ maxFailures: 10, duration: 900 }`; `false` for none.
   */
  lockout?: LockoutOptions | false
}

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
  const attempts = stepUpAttempts({ maxFailures, failureWindow, lockout: options.lockout })
  /** Sessions that verified the factor in their request (the stored `amr` gains it after). */
  const verifiedNow = new WeakSet<Session>()
  /** A code check behind the limits; a right code counts as fresh for the rest of the request. */
  const run: typeof attempts.run = async (session, test) => {
    const result = await attempts.run(session, test)
    if (result.ok) verifiedNow.add(session)
    return result
  }

  /**
   * Checks a code against a secret behind the failure limit and the lockout (see
   * `stepUpAttempts`); codes are single-use per time step.
   */
  async function check(session: Session, secret: string, code: unknown): Promise<TotpResult> {
    return run(session, async () => {
      const now = session.now()
      const token = typeof code === 'string' ? code.trim() : ''
      const delta = new RegExp(`^\\d{${digits}}$`).test(token)
        ? make(secret, session.userId!).validate({ token, timestamp: now, window })
        : null
      if (delta === null) return refuseCode(session, 'invalid')
      // Single use: the time step that matched can be used once, for as long as it could match.
      const step = TOTP.counter({ period, timestamp: now }) + delta
      if (!(await session.claimOnce(`totp-step:${step}`, (2 * window + 2) * period * 1000)))
        return refuseCode(session, 'replayed')
      return { ok: true }
    })
  }

  /**
   * Refuses unless the session authenticated recently enough to change the factor: with a
   * verification of the enrolled factor or a backup code (in this request, or within
   * `freshAuthMaxAge`), or without a factor, a primary authentication.
   */
  async function requireFresh(session: Session, enrolled: boolean): Promise<void> {
    const info = await session.info()
    if (!info?.userId) throw new SessionRequiredError()
    if (enrolled && verifiedNow.has(session)) return
    const fresh =
      info.authTime !== undefined && session.now() - info.authTime <= freshAuthMaxAge * 1000
    if (fresh && (!enrolled || meetsMethod(info.amr, 'otp'))) return
    throw new AccessError(401, 'ERR_STEP_UP_REQUIRED', 'Recent authentication required', {
      reason: fresh ? 'missing-method' : 'stale',
      methods: enrolled ? ['otp'] : [],
      maxAge: freshAuthMaxAge,
    })
  }

  /** The change of factor is told: an event, and `otp`, `backup` stop counting elsewhere. */
  async function changed(session: Session, change: 'enrolled' | 'replaced' | 'removed') {
    await session.revokeMethod('otp', { keepCurrent: change !== 'removed' })
    await session.revokeMethod('backup', { keepCurrent: change !== 'removed' })
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
  const backup = backupCodes(options.backupCodes, {
    run,
    requireFresh: (session) => requireFresh(session, true),
    enrolled,
  })

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
      await backup.clear(session)
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

    /** Backup codes: `generate` (needs a fresh verification), `verify`, `remaining`. */
    backupCodes: backup.api,

    /** The current code for a secret (tests and tooling). */
    generate(secret: string, timestamp: number): string {
      return make(secret, 'x').generate({ timestamp })
    },
  }
}

/**
 * HMAC-SHA1 (what authenticator apps use) from @noble/hashes, given to otpauth's bare build so
 * the bundle carries SHA-1 only, not every hash otpauth supports.
 */
function hmacSha1(algorithm: string, key: Uint8Array, message: Uint8Array): Uint8Array {
  if (algorithm.toUpperCase() !== 'SHA1') throw new Error(`unsupported TOTP algorithm ${algorithm}`)
  return hmac(sha1, key, message)
}
