/**
 * The one loopback rule of the package, for host names (plain-HTTP development is allowed only
 * for them) and for connection addresses (what `/metrics` serves without a token).
 */

/** `localhost`, `*.localhost`, `127.0.0.0/8` or `[::1]` (a URL's `hostname`). */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    isLoopbackAddress(hostname)
  )
}

/** A connection's address on the loopback network: `127.0.0.0/8`, `::1`, `::ffff:127.x.y.z`. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}
