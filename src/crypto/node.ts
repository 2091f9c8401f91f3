/**
 * The `node:crypto` backend: the same compact JWE as jose writes (`dir`, `A256GCM`, a 96-bit IV,
 * the protected header's base64url as AAD, a 128-bit tag), each step synchronous. Tokens move
 * freely between backends (tested both ways).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import type { CryptoBackend } from './types.js'

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

export const nodeCrypto: CryptoBackend = {
  name: 'node:crypto',
  async sha256(data) {
    return createHash('sha256').update(data).digest()
  },
  async seal(key, header, plaintext) {
    const protectedHeader = b64url(Buffer.from(JSON.stringify(header)))
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    cipher.setAAD(Buffer.from(protectedHeader, 'ascii'))
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return `${protectedHeader}..${b64url(iv)}.${b64url(ciphertext)}.${b64url(cipher.getAuthTag())}`
  },
  async open(key, token) {
    const [protectedHeader, encryptedKey, iv, ciphertext, tag] = token.split('.')
    // `dir`: no encrypted key; the caller's preflight already checked the shape and the header
    if (encryptedKey !== '' || !protectedHeader || !iv || ciphertext === undefined || !tag)
      return null
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
        authTagLength: 16,
      })
      decipher.setAAD(Buffer.from(protectedHeader, 'ascii'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      const plaintext = Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ])
      return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength)
    } catch {
      return null
    }
  },
}
