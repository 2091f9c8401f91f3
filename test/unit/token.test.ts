import { describe, expect, it } from 'vitest'
import {
  generateKeySecret,
  isCanonicalBase64url,
  KeyRing,
  MAX_TOKEN_LENGTH,
  newSecret,
  preflight,
  secretToId,
} from '../../src/token.js'

const key = (kid: string) => ({ kid, secret: generateKeySecret() })
const claims = { sid: newSecret(), iat: 1_700_000_000, exp: 1_700_000_600, uid: 'alice' }
const now = 1_700_000_000_000

describe('token: the JWE key ring', () => {
  it('refuses a ring that could not seal or open safely', () => {
    expect(() => new KeyRing([])).toThrow(/at least one/)
    expect(() => new KeyRing([{ kid: 'bad kid', secret: generateKeySecret() }])).toThrow(/"kid"/)
    expect(() => new KeyRing([{ kid: 'k', secret: 'AAAA' }])).toThrow(/exactly 32 bytes \(got 3\)/)
    const k = key('k')
    expect(() => new KeyRing([k, k])).toThrow(/duplicate kid "k"/)
  })

  it('seals with the first key and opens with any listed one (rotation)', async () => {
    const [older, newer] = [key('old'), key('new')]
    const before = new KeyRing([older])
    const token = await before.seal(claims)
    expect(preflight(token)).toBe('old')
    const rotated = new KeyRing([newer, older])
    expect(await rotated.open(token, now)).toEqual(claims)
    expect(preflight(await rotated.seal(claims))).toBe('new')
    // a ring without the old key no longer opens its tokens
    expect(await new KeyRing([newer]).open(token, now)).toBeNull()
  })

  it('gives null, never a throw, for an expired, tampered or foreign token', async () => {
    const ring = new KeyRing([key('k')])
    const token = await ring.seal(claims)
    expect(await ring.open(token, claims.exp * 1000)).toBeNull()
    expect(await ring.open(token, claims.exp * 1000 - 1)).toEqual(claims)
    const flipped = token.slice(0, -5) + (token.at(-5) === 'A' ? 'B' : 'A') + token.slice(-4)
    expect(await ring.open(flipped, now)).toBeNull()
    expect(await ring.open(await new KeyRing([key('k')]).seal(claims), now)).toBeNull()
    expect(await ring.open('x'.repeat(MAX_TOKEN_LENGTH + 1), now)).toBeNull()
    expect(await ring.open('', now)).toBeNull()
    // a sealed value that is not a claims object
    expect(await ring.open(await ring.sealValue('[1,2]'), now)).toBeNull()
  })

  it('seals small values for the store and opens them back', async () => {
    const ring = new KeyRing([key('k')])
    expect(await ring.openValue(await ring.sealValue('totp-secret'))).toBe('totp-secret')
    expect(await ring.openValue('not sealed')).toBeNull()
  })

  it('base64url must be canonical; session ids are a one-way function of the secret', async () => {
    expect(isCanonicalBase64url('AQ')).toBe(true)
    expect(isCanonicalBase64url('AR')).toBe(false) // unused low bits set
    expect(isCanonicalBase64url('A+')).toBe(false)
    const secret = newSecret()
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const id = await secretToId(secret)
    expect(id).toBe(await secretToId(secret))
    expect(id).not.toContain(secret)
  })
})
