/** What a Redis target's text means, without ioredis: shared by the settings parser and the connector. */
import type { RedisOptions } from 'ioredis'

/** The Sentinel master name when none is given. */
export const DEFAULT_SENTINEL_NAME = 'mymaster'

/** Parses a redis:// or rediss:// URL into ioredis options. Throws on anything else. */
export function urlOptions(url: string): RedisOptions & { tls?: object } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('Redis URL is not a valid URL (expected redis://[user:pass@]host[:port][/db])')
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`Redis URL must start with redis:// or rediss://, not ${parsed.protocol}//`)
  }
  if (!parsed.hostname) throw new Error('Redis URL has no host')
  const db = parsed.pathname.replace(/^\//, '')
  if (db !== '' && !/^\d+$/.test(db))
    throw new Error(`Redis URL database must be a number, not "${db}"`)
  const port = parsed.port === '' ? 6379 : Number(parsed.port)
  return {
    // URL keeps IPv6 hosts in brackets; sockets want them bare.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    ...(db !== '' ? { db: Number(db) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  }
}
