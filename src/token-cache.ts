import type { TokenClaims } from './token.js'

/**
 * Tokens this process has already opened, by their exact text: a returning client sends the
 * same token on every request, and opening it again (AES-GCM, then SHA-256 of the secret, each a
 * WebCrypto job) was most of a request's cost. Only tokens that opened are kept, so invalid ones
 * always take the full path; `exp` is checked on every use; and the store is still asked on
 * every request, so revocation and expiry are unaffected. Least recently used entries go first.
 */
export class TokenCache {
  readonly #entries = new Map<string, { claims: TokenClaims; id: string }>()
  readonly #max: number

  constructor(max = 4096) {
    this.#max = max
  }

  /** The cached claims and store id of a token still valid at `now` (epoch ms). */
  get(token: string, now: number): { claims: TokenClaims; id: string } | undefined {
    const hit = this.#entries.get(token)
    if (!hit) return undefined
    this.#entries.delete(token)
    if (Math.floor(now / 1000) >= hit.claims.exp) return undefined
    this.#entries.set(token, hit)
    return hit
  }

  set(token: string, claims: TokenClaims, id: string): void {
    if (this.#max <= 0) return
    this.#entries.delete(token)
    this.#entries.set(token, { claims, id })
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!)
  }
}
