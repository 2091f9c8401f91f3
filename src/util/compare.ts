/**
 * Compares two byte strings in time that depends only on their length, not on where they
 * differ (secrets, token digests). Runtime-neutral (Workers have no `crypto.timingSafeEqual`).
 * Compare digests of equal length (e.g. SHA-256 of both sides): a length difference is not
 * hidden.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}
