/**
 * Backup codes: single-use recovery codes for when the authenticator app is not at hand. Only
 * their hashes are kept (PBKDF2-HMAC-SHA-256 with a salt per code, in a per-user value sealed
 * with the session key ring); each code is used once, whatever the concurrency, through a
 * per-user claim the store makes atomically. WebCrypto only: runs on every runtime.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { AccessError, SessionRequiredError } from './errors.js'
import type { Session } from './session/session.js'
import { refuseCode, type CodeRefusal, type TotpResult } from './step-up-attempts.js'
import { timingSafeEqual } from './util/compare.js'

/** Options of the backup codes (`totp({ backupCodes })`). */
export interface BackupCodeOptions {
  /** Codes in a set. Default 10 (at most 20). */
  count?: number
  /**
   * PBKDF2-HMAC-SHA-256 iterations per code. Default 10000: a code carries 50 random bits, so
   * finding one from a leaked hash takes about 2^63 HMAC computations; a check hashes the
   * guess once per code of the set (10 by default).
   */
  iterations?: number
}

/** What a code did. */
type BackupCodeUse = 'used' | 'invalid' | 'replayed'

/** The outcome of a backup code: on success, how many codes are left. */
export type BackupCodeResult = { ok: true; remaining: number } | Exclude<TotpResult, { ok: true }>

/** A user's set as stored: an id (names its claims), the cost, `salt.hash` per code. */
interface CodeSet {
  id: string
  iterations: number
  codes: string[]
}

const VALUE = 'backup-codes'
/** Claims and the used-codes mask outlive any set (the store keeps nothing forever but values). */
const KEEP_MS = 10 * 365 * 24 * 3600 * 1000
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const LENGTH = 10
const SHAPE = /^[A-Z2-7]{10}$/
const encoder = new TextEncoder()

/** A code as typed: spaces, dashes and case do not matter. Null unless it can be a code. */
function normalize(code: unknown): string | null {
  if (typeof code !== 'string' || code.length > 64) return null
  const text = code.replace(/[\s-]/g, '').toUpperCase()
  return SHAPE.test(text) ? text : null
}

/** `LENGTH` base32 characters: 50 bits (a byte's low 5 bits are uniform). */
function newCode(): string {
  let out = ''
  for (const b of crypto.getRandomValues(new Uint8Array(LENGTH))) out += ALPHABET[b & 31]
  return out
}

async function pbkdf2(code: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(code), 'PBKDF2', false, [
    'deriveBits',
  ])
  const params = { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }
  return new Uint8Array(await crypto.subtle.deriveBits(params, key, 256))
}

function popcount(mask: number): number {
  let n = 0
  for (let m = mask; m > 0; m = Math.floor(m / 2)) n += m % 2
  return n
}

/** The hashed codes of a user in the store (the freshness and attempt limits are the caller's). */
function backupCodeVault(options: BackupCodeOptions = {}) {
  const { count = 10, iterations = 10_000 } = options
  if (!Number.isSafeInteger(count) || count < 1 || count > 20)
    throw new Error('backupCodes option "count" must be an integer from 1 to 20')
  if (!Number.isSafeInteger(iterations) || iterations < 1000)
    throw new Error('backupCodes option "iterations" must be an integer of at least 1000')
  const usedMask = (session: Session, set: CodeSet) =>
    session.reserve(`backup-used:${set.id}`, { limit: 0, windowMs: KEEP_MS }) // limit 0: a read

  const vault = {
    /** The user's set, or null when none was made. */
    async load(session: Session): Promise<CodeSet | null> {
      const text = await session.readUserSecret(VALUE)
      return text === null ? null : (JSON.parse(text) as CodeSet)
    },

    /** A new set for the user, replacing the previous one; the codes, shown once. */
    async create(session: Session): Promise<string[]> {
      const codes = Array.from({ length: count }, newCode)
      const hashed = await Promise.all(
        codes.map(async (code) => {
          const salt = crypto.getRandomValues(new Uint8Array(16))
          const hash = await pbkdf2(code, salt, iterations)
          return `${bytesToHex(salt)}.${bytesToHex(hash)}`
        }),
      )
      const id = bytesToHex(crypto.getRandomValues(new Uint8Array(8)))
      const set: CodeSet = { id, iterations, codes: hashed }
      await session.writeUserSecret(VALUE, JSON.stringify(set))
      return codes.map((c) => `${c.slice(0, 5)}-${c.slice(5)}`)
    },

    /** Codes of the set not used yet; null without a set. */
    async remaining(session: Session, set?: CodeSet | null): Promise<number | null> {
      const current = set === undefined ? await vault.load(session) : set
      if (current === null) return null
      return current.codes.length - popcount((await usedMask(session, current)).count)
    },

    /**
     * Checks a code against every code of the set (the same work whichever matches, compared in
     * constant time), then claims the one it matched: of any number of concurrent uses of a
     * code, exactly one gets `used`, the others `replayed`.
     */
    async use(session: Session, set: CodeSet, code: unknown): Promise<BackupCodeUse> {
      const text = normalize(code)
      if (text === null) return 'invalid'
      let match = -1
      const derived = await Promise.all(
        set.codes.map((entry) => {
          const [salt] = entry.split('.')
          return pbkdf2(text, hexToBytes(salt!), set.iterations)
        }),
      )
      derived.forEach((hash, i) => {
        if (timingSafeEqual(hash, hexToBytes(set.codes[i]!.split('.')[1]!))) match = i
      })
      if (match < 0) return 'invalid'
      if (!(await session.claimOnce(`backup:${set.id}:${match}`, KEEP_MS))) return 'replayed'
      await session.countEvent(`backup-used:${set.id}`, KEEP_MS, 2 ** match)
      return 'used'
    },

    /** Deletes the user's set (the factor was removed). */
    async clear(session: Session): Promise<void> {
      await session.writeUserSecret(VALUE, null)
    },
  }
  return vault
}

/** What the backup codes need of `totp()`. */
export interface BackupCodeContext {
  /** Runs a code check behind the attempt limits (see `stepUpAttempts`). */
  run(session: Session, test: () => Promise<{ ok: true } | CodeRefusal>): Promise<TotpResult>
  /** Refuses unless the factor was verified recently (as replacing it needs). */
  requireFresh(session: Session): Promise<void>
  /** Whether the user has a TOTP factor. */
  enrolled(session: Session): Promise<boolean>
}

/**
 * The backup codes of `totp()` (`otp.backupCodes`), method `backup`, which meets
 * `requireFreshAuth({ methods: ['otp'] })`. Codes look like `K7QXM-2WD4P`: ten base32
 * characters (50 random bits), typed with or without the dash, in any case.
 *
 * @example
 * ```ts
 * const otp = totp({ issuer: 'Example' })
 * // right after confirmEnrolment() or verify() succeeded in this request, or within freshAuthMaxAge
 * const codes = await otp.backupCodes.generate(c.get('session'))
 * // the step-up form: a backup code instead of a TOTP code
 * const result = await otp.backupCodes.verify(c.get('session'), form.code)
 * ```
 */
export function backupCodes(options: BackupCodeOptions | undefined, ctx: BackupCodeContext) {
  const vault = backupCodeVault(options)
  const api = {
    /**
     * A new set of codes (the previous set stops working), to show the user once; only their
     * hashes are kept. Needs a fresh verification, as replacing the factor does.
     * @throws AccessError 401 `ERR_STEP_UP_REQUIRED` without it, or without a factor
     */
    async generate(session: Session): Promise<string[]> {
      if (session.userId === undefined) throw new SessionRequiredError()
      await ctx.requireFresh(session)
      if (!(await ctx.enrolled(session)))
        throw new AccessError(401, 'ERR_STEP_UP_REQUIRED', 'No second factor to back up', {
          reason: 'not-enrolled',
          methods: ['otp'],
        })
      return vault.create(session)
    },

    /** Unused codes of the user's set; null when none was generated. */
    async remaining(session: Session): Promise<number | null> {
      return session.userId === undefined ? null : vault.remaining(session)
    },

    /**
     * Step-up with a backup code, behind the same limits as TOTP codes: each code works once
     * (of concurrent uses of one code exactly one succeeds); on success `amr` gains `backup`.
     */
    async verify(session: Session, code: unknown): Promise<BackupCodeResult> {
      if (session.userId === undefined) return { ok: false, reason: 'no-session' }
      const set = await vault.load(session)
      if (set === null) return { ok: false, reason: 'not-enrolled' }
      const result = await ctx.run(session, async () => {
        const use = await vault.use(session, set, code)
        return use === 'used' ? { ok: true } : refuseCode(session, use)
      })
      if (!result.ok) return result
      session.stepUp('backup')
      return { ok: true, remaining: (await vault.remaining(session, set)) ?? 0 }
    },
  }
  /** `clear` deletes the user's codes (the factor was removed): for `totp()` only. */
  return { api, clear: (session: Session) => vault.clear(session) }
}
