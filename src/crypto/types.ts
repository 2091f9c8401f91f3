/** The contract of a crypto backend (see `./backend.ts`). */

/** What a backend does; every failure to open is `null`, never a throw. */
export interface CryptoBackend {
  readonly name: string
  /** `length` bytes from the platform CSPRNG, in an array of their own. */
  randomBytes(length: number): Uint8Array
  sha256(data: Uint8Array): Promise<Uint8Array>
  /**
   * Seals `plaintext` as compact JWE with the 32-byte `key`: `header` is the protected header
   * (its JSON object), used as the additional authenticated data.
   */
  seal(key: Uint8Array, header: JweHeader, plaintext: Uint8Array): Promise<string>
  /**
   * Opens a compact JWE that `preflight`-style checks already passed (shape, canonical
   * base64url, `dir`/`A256GCM` header); null when the tag does not verify.
   */
  open(key: Uint8Array, token: string): Promise<Uint8Array | null>
}

/** The protected header of every token: `{ alg: 'dir', enc: 'A256GCM', kid }`. */
export interface JweHeader {
  alg: 'dir'
  enc: 'A256GCM'
  kid: string
}
