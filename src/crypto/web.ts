/** The WebCrypto backend: jose for JWE, `crypto.subtle` for SHA-256. Runs on every runtime. */
import { CompactEncrypt, compactDecrypt } from 'jose'
import type { CryptoBackend } from './types.js'

/** Each raw key is imported as a `CryptoKey` once (importing is asynchronous). */
const imported = new WeakMap<Uint8Array, Promise<CryptoKey>>()

function cryptoKey(raw: Uint8Array): Promise<CryptoKey> {
  let key = imported.get(raw)
  if (!key) {
    key = crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ])
    imported.set(raw, key)
  }
  return key
}

export const webCrypto: CryptoBackend = {
  name: 'webcrypto',
  randomBytes(length) {
    return crypto.getRandomValues(new Uint8Array(length))
  },
  async sha256(data) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', data as BufferSource))
  },
  async seal(raw, header, plaintext) {
    return new CompactEncrypt(plaintext)
      .setProtectedHeader({ ...header })
      .encrypt(await cryptoKey(raw))
  },
  async open(raw, token) {
    try {
      const { plaintext } = await compactDecrypt(token, await cryptoKey(raw), {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      })
      return plaintext
    } catch {
      return null
    }
  },
}
