import { generateKeySecret, type TokenKey } from '../src/token.js'

/**
 * Parses `SESSION_KEYS`: comma-separated `kid:secret` entries, secret = 32 bytes base64url, the
 * first one seals. When unset, a random key for this process (sessions end on restart) and a
 * warning. Throws a clear error for a malformed value.
 */
export function keysFromEnv(
  value: string | undefined,
  warn: (msg: string) => void = console.warn,
): TokenKey[] {
  if (value === undefined || value.trim() === '') {
    warn(
      'SESSION_KEYS is not set: using a random key for this process (development only; sessions end on restart)',
    )
    return [{ kid: 'dev', secret: generateKeySecret() }]
  }
  return value.split(',').map((entry, i) => {
    const [kid, secret, ...rest] = entry.trim().split(':')
    if (!kid || !secret || rest.length)
      throw new Error(`SESSION_KEYS entry ${i + 1} must be "kid:secret"`)
    return { kid, secret }
  })
}
