/**
 * The crypto a session needs on every login and token: SHA-256 and compact JWE (`alg: dir`,
 * `enc: A256GCM`). Two backends meet this contract: WebCrypto with jose (the default, for
 * workerd, Deno, browsers) and `node:crypto` (selected by the package's `node` export
 * condition: synchronous, without WebCrypto's hop through the libuv thread pool).
 */
import type { CryptoBackend } from './types.js'
import { webCrypto } from './web.js'

export type { CryptoBackend, JweHeader } from './types.js'

let current: CryptoBackend = webCrypto

/** The backend in use. */
export function cryptoBackend(): CryptoBackend {
  return current
}

/** Replaces the backend (the `node` entry does this once, at import). */
export function useCryptoBackend(backend: CryptoBackend): void {
  current = backend
}
