import { base64url } from 'jose'
import { cryptoBackend } from './crypto/backend.js'

/**
 * Session tokens: compact JWE, `alg: dir`, `enc: A256GCM`, sealed with the newest key of a key
 * ring and opened with whichever listed key the header's `kid` names. The token carries the
 * session secret (`sid`), so it is encrypted, not merely signed.
 */

/** One key of the ring. */
export interface TokenKey {
  /** Key id written to the JWE header; letters, digits, `-`, `_`, `.` (1 to 64). */
  kid: string
  /** 32 bytes, as a `Uint8Array` or base64url text. */
  secret: string | Uint8Array
}

/** The claims a session token carries. Times are seconds since the epoch. */
export interface TokenClaims {
  /** The session secret, base64url of 32 random bytes. Never leaves the token. */
  sid: string
  iat: number
  /** The absolute deadline of the session. */
  exp: number
  uid?: string
  auth_time?: number
  amr?: string[]
  /** The at-rest data key (base64url, 32 bytes), present when values are encrypted at rest. */
  dk?: string
}

/** Tokens longer than this are rejected before any crypto (cookies max out near 4 KiB). */
export const MAX_TOKEN_LENGTH = 4096

const KID = /^[A-Za-z0-9._-]{1,64}$/
const SID = /^[A-Za-z0-9_-]{43}$/
// Five base64url segments; the second (the encrypted key) is empty for `dir`.
const COMPACT_DIR =
  /^([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/

/** Decodes and checks one key's secret. Throws a start-up error naming the key. */
export function decodeKeySecret(entry: TokenKey): Uint8Array {
  if (!entry || typeof entry.kid !== 'string' || !KID.test(entry.kid)) {
    throw new Error(
      `Session option "keys": each key needs a "kid" of 1-64 characters [A-Za-z0-9._-]`,
    )
  }
  let bytes: Uint8Array
  try {
    bytes = typeof entry.secret === 'string' ? base64url.decode(entry.secret) : entry.secret
  } catch {
    throw new Error(`Session key "${entry.kid}": secret is not valid base64url`)
  }
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new Error(
      `Session key "${entry.kid}": secret must be exactly 32 bytes (got ${bytes?.length ?? 0})`,
    )
  }
  return bytes
}

/**
 * A key ring: validates every key at construction, seals with the first key and opens with any
 * listed key, through the crypto backend of the runtime (`crypto/backend.ts`).
 */
export class KeyRing {
  readonly #raw: Map<string, Uint8Array>
  readonly #sealKid: string

  constructor(entries: readonly TokenKey[]) {
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new Error(
        'Session option "keys" requires at least one { kid, secret } (the first one seals)',
      )
    }
    this.#raw = new Map()
    for (const entry of entries) {
      const bytes = decodeKeySecret(entry)
      if (this.#raw.has(entry.kid))
        throw new Error(`Session option "keys": duplicate kid "${entry.kid}"`)
      this.#raw.set(entry.kid, bytes)
    }
    this.#sealKid = entries[0]!.kid
  }

  /** Seals claims with the newest key. */
  async seal(claims: TokenClaims): Promise<string> {
    return this.sealValue(JSON.stringify(claims))
  }

  /**
   * Seals a small value (e.g. a TOTP secret kept in the store) with the newest key, so a copy
   * of the store alone cannot read it.
   */
  async sealValue(text: string): Promise<string> {
    const kid = this.#sealKid
    const header = { alg: 'dir', enc: 'A256GCM', kid } as const
    return cryptoBackend().seal(this.#raw.get(kid)!, header, new TextEncoder().encode(text))
  }

  /** Opens a value sealed by {@link sealValue} with any listed key; null when it will not open. */
  async openValue(sealed: string): Promise<string | null> {
    const kid = preflight(sealed, 64 * 1024)
    const key = kid === null ? undefined : this.#raw.get(kid)
    const plaintext = key && (await cryptoBackend().open(key, sealed))
    return plaintext ? new TextDecoder().decode(plaintext) : null
  }

  /**
   * Opens a token. Every failure (malformed, oversized, unknown key, tampered, wrong algorithm,
   * expired, missing claims) gives `null`: the caller treats them all the same way.
   * @param now the current time, epoch milliseconds
   */
  async open(token: string, now: number): Promise<TokenClaims | null> {
    const kid = preflight(token)
    const key = kid === null ? undefined : this.#raw.get(kid)
    const plaintext = key && (await cryptoBackend().open(key, token))
    if (!plaintext) return null
    try {
      const payload: unknown = JSON.parse(new TextDecoder().decode(plaintext))
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null
      const claims = checkClaims(payload as Record<string, unknown>)
      return claims && Math.floor(now / 1000) < claims.exp ? claims : null
    } catch {
      return null
    }
  }
}

/**
 * Cheap checks before any crypto: length, the compact `dir` shape, canonical base64url in every
 * segment (so a flip of the unused low bits of a last character cannot decode to the same bytes),
 * and a header that names `dir`/`A256GCM` and a `kid`.
 * @returns the header's kid, or null
 */
export function preflight(token: string, maxLength = MAX_TOKEN_LENGTH): string | null {
  if (typeof token !== 'string' || token.length > maxLength) return null
  const m = COMPACT_DIR.exec(token)
  if (!m) return null
  for (let i = 1; i <= 4; i++) if (!isCanonicalBase64url(m[i]!)) return null
  let header: unknown
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(base64url.decode(m[1]!)),
    )
  } catch {
    return null
  }
  if (typeof header !== 'object' || header === null) return null
  const { alg, enc, kid } = header as Record<string, unknown>
  if (alg !== 'dir' || enc !== 'A256GCM' || typeof kid !== 'string' || !KID.test(kid)) return null
  return kid
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** True when decoding and re-encoding `segment` gives it back unchanged. */
export function isCanonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4
  if (rest === 1) return false
  if (rest === 0) return true
  const last = ALPHABET.indexOf(segment[segment.length - 1]!)
  // 2 leftover chars carry 8 bits (4 unused), 3 carry 16 bits (2 unused): those must be zero.
  const unusedBits = rest === 2 ? 0b1111 : 0b11
  return (last & unusedBits) === 0
}

function checkClaims(p: Record<string, unknown>): TokenClaims | null {
  const { sid, iat, exp, uid, auth_time, amr, dk } = p
  if (typeof sid !== 'string' || !SID.test(sid)) return null
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return null
  const claims: TokenClaims = { sid, iat: iat as number, exp: exp as number }
  if (uid !== undefined) {
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 256) return null
    claims.uid = uid
  }
  if (auth_time !== undefined) {
    if (!Number.isSafeInteger(auth_time)) return null
    claims.auth_time = auth_time as number
  }
  if (dk !== undefined) {
    if (typeof dk !== 'string' || !SID.test(dk)) return null
    claims.dk = dk
  }
  if (amr !== undefined) {
    if (!Array.isArray(amr) || !amr.every((m) => typeof m === 'string')) return null
    claims.amr = amr as string[]
  }
  return claims
}

/** A new session secret: 32 bytes from the platform CSPRNG, base64url. */
export function newSecret(): string {
  return base64url.encode(cryptoBackend().randomBytes(32))
}

/** The store id of a secret: base64url(SHA-256(secret)). The secret itself is never stored. */
export async function secretToId(sid: string): Promise<string> {
  return base64url.encode(await cryptoBackend().sha256(new TextEncoder().encode(sid)))
}

/** A new key for the ring: 32 random bytes, base64url (what `SESSION_KEYS` entries carry). */
export function generateKeySecret(): string {
  return newSecret()
}
