/**
 * The `node:crypto` backend: the same compact JWE as jose writes (`dir`, `A256GCM`, a 96-bit IV,
 * the protected header's base64url as AAD, a 128-bit tag), each step synchronous. Tokens move
 * freely between backends (tested both ways).
 */
import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto'
import type { CryptoBackend } from './types.js'

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

/**
 * Random bytes drawn from a pool refilled 4 KiB at a time: one OpenSSL call costs the process
 * about 28 k instructions whatever its size (two per login: the secret and the IV), so one fill
 * serves some ninety logins. As Node's own `randomUUID()` cache, each byte is handed out once
 * (copied, then zeroed in the pool). Bytes waiting in the pool are no more exposed than the key
 * ring beside them in the same memory.
 */
const POOL_BYTES = 4096
const pool = Buffer.alloc(POOL_BYTES)
let poolOffset = POOL_BYTES

function pooledRandom(length: number): Uint8Array {
  if (length > POOL_BYTES) return randomFillSync(new Uint8Array(length))
  if (poolOffset + length > POOL_BYTES) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const out = new Uint8Array(pool.subarray(poolOffset, poolOffset + length))
  pool.fill(0, poolOffset, poolOffset + length)
  poolOffset += length
  return out
}

export const nodeCrypto: CryptoBackend = {
  name: 'node:crypto',
  randomBytes: pooledRandom,
  async sha256(data) {
    return createHash('sha256').update(data).digest()
  },
  async seal(key, header, plaintext) {
    const protectedHeader = b64url(Buffer.from(JSON.stringify(header)))
    const iv = pooledRandom(12)
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
