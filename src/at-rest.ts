import { base64url } from 'jose'

/**
 * At-rest encryption of session values: each value is sealed with AES-GCM under a key derived
 * (HKDF-SHA-256) from the session secret, with the field name as additional data, so a dump of
 * the store reveals no session data, and a value cannot be moved to another field or session.
 * The store never holds the secret, so it cannot derive the key.
 */

const INFO = new TextEncoder().encode('hono-redis-session at-rest v1')
const SALT = new Uint8Array(32)
/** Marks a sealed value: `e1.` + base64url(iv || ciphertext || tag). */
const SEALED = 'e1.'

export interface FieldCipher {
  seal(field: string, text: string): Promise<string>
  /** @returns the plaintext, or undefined when the value is not sealed under this key */
  open(field: string, sealed: string): Promise<string | undefined>
}

/** Derives the cipher of one session secret. */
export async function fieldCipher(sid: string): Promise<FieldCipher> {
  const ikm = await crypto.subtle.importKey('raw', new TextEncoder().encode(sid), 'HKDF', false, [
    'deriveKey',
  ])
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: INFO },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
  const aad = (field: string) => new TextEncoder().encode(field)
  return {
    async seal(field, text) {
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const ct = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: aad(field) },
        key,
        new TextEncoder().encode(text),
      )
      const out = new Uint8Array(12 + ct.byteLength)
      out.set(iv)
      out.set(new Uint8Array(ct), 12)
      return SEALED + base64url.encode(out)
    },
    async open(field, sealed) {
      if (!sealed.startsWith(SEALED)) return undefined
      try {
        const bytes = base64url.decode(sealed.slice(SEALED.length))
        const pt = await crypto.subtle.decrypt(
          {
            name: 'AES-GCM',
            iv: bytes.slice(0, 12) as Uint8Array<ArrayBuffer>,
            additionalData: aad(field),
          },
          key,
          bytes.slice(12) as Uint8Array<ArrayBuffer>,
        )
        return new TextDecoder().decode(pt)
      } catch {
        return undefined
      }
    },
  }
}
