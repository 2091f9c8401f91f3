/**
 * The two crypto backends (WebCrypto + jose, and node:crypto behind the package's `node` export
 * condition) write the same compact JWE: every token moves between them, and neither opens a
 * token that was changed anywhere or sealed under another key.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { cryptoBackend, useCryptoBackend } from '../../../src/crypto/backend.js'
import { nodeCrypto } from '../../../src/crypto/node.js'
import { webCrypto } from '../../../src/crypto/web.js'
import { generateKeySecret, KeyRing, newSecret, preflight, secretToId } from '../../../src/token.js'

const BACKENDS = [webCrypto, nodeCrypto]
const key = () => crypto.getRandomValues(new Uint8Array(32))
const header = { alg: 'dir', enc: 'A256GCM', kid: 'k1' } as const
const text = (s: string) => new TextEncoder().encode(s)

afterEach(() => useCryptoBackend(webCrypto))

describe('crypto backends', () => {
  it('SHA-256 gives the standard digest on both', async () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    for (const b of BACKENDS)
      expect(Buffer.from(await b.sha256(text('abc'))).toString('hex'), b.name).toBe(abc)
  })

  it('random bytes: the length asked, independent arrays, no repeats across pool refills', () => {
    for (const b of BACKENDS) {
      const first = b.randomBytes(32)
      const copy = Uint8Array.from(first)
      const seen = new Set<string>()
      // 4 KiB pools hold 128 draws of 32 bytes: this crosses several refills
      for (let i = 0; i < 1000; i++) {
        const bytes = b.randomBytes(32)
        expect(bytes.byteLength).toBe(32)
        seen.add(Buffer.from(bytes).toString('hex'))
      }
      expect(seen.size, b.name).toBe(1000)
      // a drawn array is its own: later draws and refills never change it
      expect(first, b.name).toEqual(copy)
      expect(b.randomBytes(12).byteLength).toBe(12)
      const large = b.randomBytes(10_000)
      expect(large.byteLength).toBe(10_000)
      expect(new Set(large).size, `${b.name}: large draws are random too`).toBeGreaterThan(200)
    }
  })

  it('a token sealed by either backend opens with the other', async () => {
    const k = key()
    for (const from of BACKENDS) {
      const token = await from.seal(k, header, text('{"hello":"world"}'))
      expect(preflight(token), from.name).toBe('k1')
      for (const to of BACKENDS) {
        const opened = await to.open(k, token)
        expect(opened && new TextDecoder().decode(opened), `${from.name} -> ${to.name}`).toBe(
          '{"hello":"world"}',
        )
      }
    }
  })

  it('neither opens a token changed in any segment, or under another key', async () => {
    const k = key()
    for (const from of BACKENDS) {
      const token = await from.seal(k, header, text('secret claims'))
      const segments = token.split('.')
      for (const to of BACKENDS) {
        expect(await to.open(key(), token), `${to.name}: other key`).toBeNull()
        for (const at of [0, 2, 3, 4]) {
          const changed = [...segments]
          const s = changed[at]!
          // change the first character: always a real bit change in base64url
          changed[at] = (s[0] === 'A' ? 'B' : 'A') + s.slice(1)
          expect(await to.open(k, changed.join('.')), `${to.name}: segment ${at}`).toBeNull()
        }
      }
    }
  })

  it('a session made on one runtime is read on the other: the key ring and session ids', async () => {
    const ring = new KeyRing([{ kid: 'k1', secret: generateKeySecret() }])
    const claims = { sid: newSecret(), iat: 1_700_000_000, exp: 1_700_000_600, uid: 'alice' }
    useCryptoBackend(nodeCrypto)
    expect(cryptoBackend().name).toBe('node:crypto')
    const fromNode = await ring.seal(claims)
    const idOnNode = await secretToId(claims.sid)
    useCryptoBackend(webCrypto)
    expect(await ring.open(fromNode, 1_700_000_000_000)).toEqual(claims)
    expect(await secretToId(claims.sid)).toBe(idOnNode)
    const fromWeb = await ring.seal(claims)
    useCryptoBackend(nodeCrypto)
    expect(await ring.open(fromWeb, 1_700_000_000_000)).toEqual(claims)
    expect(await ring.openValue(await ring.sealValue('totp'))).toBe('totp')
  })

  it('the package root resolves to the node:crypto entry on Node only', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      exports: Record<string, Record<string, string>>
    }
    const root = pkg.exports['.']!
    expect(root.node).toBe('./dist/node.js')
    expect(root.default).toBe('./dist/index.js')
    // conditions are matched in order: types first, then node before the default
    expect(Object.keys(root)).toEqual(['types', 'node', 'default'])
  })
})
