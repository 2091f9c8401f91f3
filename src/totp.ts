import { hmac } from '@noble/hashes/hmac.js'
import { sha1 } from '@noble/hashes/legacy.js'
import { Secret, TOTP } from 'otpauth/bare'
import { kEmit, type Session } from './session.js'

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
  /** Failed attempts allowed per `failureWindow`. Default 5. */
  maxFailures?: number
  /** Window of the failure count, seconds. Default 300. */
  failureWindow?: number
}

/** The outcome of a verification; `reason` is machine-readable. */
export type TotpResult =
  | { ok: true }
  | { ok: false; reason: 'no-session' | 'not-enrolled' | 'rate-limited' | 'invalid' | 'replayed' }

const SECRET = 'totp'
const PENDING = 'totp-pending'
const FAILURES = 'totp-failures'

/**
 * Creates the TOTP helpers.
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
  } = options
  if (typeof issuer !== 'string' || issuer === '')
    throw new Error('totp() option "issuer" is required')
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

  /** Checks a code against a secret with the replay and rate-limit rules. */
  async function check(session: Session, secret: string, code: unknown): Promise<TotpResult> {
    const uid = session.userId!
    const failWindowMs = failureWindow * 1000
    if ((await session.countEvent(FAILURES, failWindowMs, 0)) >= maxFailures) {
      return fail(session, uid, 'rate-limited')
    }
    const now = session.now()
    const token = typeof code === 'string' ? code.trim() : ''
    const delta = new RegExp(`^\\d{${digits}}$`).test(token)
      ? make(secret, uid).validate({ token, timestamp: now, window })
      : null
    if (delta === null) {
      await session.countEvent(FAILURES, failWindowMs)
      return fail(session, uid, 'invalid')
    }
    // Single use: the time step that matched can be used once, for as long as it could match.
    const step = TOTP.counter({ period, timestamp: now }) + delta
    if (!(await session.claimOnce(`totp-step:${step}`, (2 * window + 2) * period * 1000))) {
      await session.countEvent(FAILURES, failWindowMs)
      return fail(session, uid, 'replayed')
    }
    return { ok: true }
  }

  return {
    /** Whether the signed-in user has a confirmed TOTP secret. */
    async isEnrolled(session: Session): Promise<boolean> {
      return session.userId !== undefined && (await session.readUserSecret(SECRET)) !== null
    },

    /** The enrolment waiting for confirmation, if any (to show its QR code again). */
    async pendingEnrolment(session: Session): Promise<{ secret: string; uri: string } | null> {
      const uid = session.userId
      const secret = uid === undefined ? null : await session.readUserSecret(PENDING)
      return secret === null ? null : { secret, uri: make(secret, uid!).toString() }
    },

    /** Starts enrolment: a new secret (kept pending until confirmed) and its provisioning URI. */
    async startEnrolment(session: Session): Promise<{ secret: string; uri: string }> {
      const uid = session.userId
      if (uid === undefined) throw new Error('TOTP enrolment needs a signed-in user')
      const secret = new Secret({ size: 20 }).base32
      await session.writeUserSecret(PENDING, secret)
      return { secret, uri: make(secret, uid).toString() }
    },

    /** Confirms enrolment with a first code; on success it is also a completed step-up. */
    async confirmEnrolment(session: Session, code: unknown): Promise<TotpResult> {
      if (session.userId === undefined) return { ok: false, reason: 'no-session' }
      const pending = await session.readUserSecret(PENDING)
      if (pending === null) return { ok: false, reason: 'not-enrolled' }
      const result = await check(session, pending, code)
      if (!result.ok) return result
      await session.writeUserSecret(SECRET, pending)
      await session.writeUserSecret(PENDING, null)
      session.stepUp('otp')
      return result
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

function fail(
  session: Session,
  uid: string,
  reason: 'rate-limited' | 'invalid' | 'replayed',
): TotpResult {
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
