import type { TokenClaims } from './token.js'

/**
 * Tokens this process has already opened, by their exact text: a returning client sends the
 * same token on every request, and opening it again (AES-GCM, then SHA-256 of the secret, each a
 * WebCrypto job) was most of a request's cost. Only tokens that opened are kept, so invalid ones
 * always take the full path; `exp` is checked on every use; and the store is still asked on
 * every request, so revocation and expiry are unaffected. Least recently used entries go first;
 * a hit moves its entry to the fresh end only once half the capacity was inserted since its last
 * move, so most hits are one Map lookup (not three) and a token used at least once per half the
 * capacity of insertions is never evicted.
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>()
  readonly #max: number
  /** Insertions so far: an entry's `at` is this counter when it was last (re)inserted. */
  #clock = 0

  constructor(max = 4096) {
    this.#max = max
  }

  /** The cached claims and store id of a token still valid at `now` (epoch ms). */
  get(token: string, now: number): { claims: TokenClaims; id: string } | undefined {
    const hit = this.#entries.get(token)
    if (!hit) return undefined
    if (Math.floor(now / 1000) >= hit.claims.exp) {
      this.#entries.delete(token)
      return undefined
    }
    if (this.#clock - hit.at >= this.#max / 2) {
      this.#entries.delete(token)
      hit.at = ++this.#clock
      this.#entries.set(token, hit)
    }
    return hit
  }

  set(token: string, claims: TokenClaims, id: string): void {
    if (this.#max <= 0) return
    this.#entries.delete(token)
    this.#entries.set(token, { claims, id, at: ++this.#clock })
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!)
  }
}

interface Entry {
  claims: TokenClaims
  id: string
  at: number
}
