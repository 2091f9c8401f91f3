import type { Context } from 'hono'

/** Options of {@link clientAddress}. */
export interface ClientAddressOptions {
  /**
   * The address of the peer of the connection, which a client cannot forge: on Node
   * `(c) => getConnInfo(c).remote.address` (`@hono/node-server/conninfo`), on Workers
   * `(c) => c.req.header('CF-Connecting-IP')` (Cloudflare sets it on every request).
   */
  connection: (c: Context) => string | undefined
  /**
   * How many reverse proxies of your own stand in front of the app, each appending the address
   * it received the request from to `X-Forwarded-For`. With `n`, the client is the n-th entry
   * from the right (entries further left are the client's to forge); a header with fewer
   * entries falls back to the connection. Default 0: `X-Forwarded-For` is never read.
   */
  trustedProxies?: number
}

/**
 * The key of a per-client rate limit: the client's address, from the connection unless
 * `trustedProxies` says how many proxies to trust (never `X-Forwarded-For` by default, which
 * any client can send). `undefined` when the connection knows no address.
 *
 * @example
 * ```ts
 * import { getConnInfo } from '@hono/node-server/conninfo'
 * const key = clientAddress({ connection: (c) => getConnInfo(c).remote.address })
 * const behindOneProxy = clientAddress({
 *   connection: (c) => getConnInfo(c).remote.address,
 *   trustedProxies: 1,
 * })
 * ```
 */
export function clientAddress(options: ClientAddressOptions): (c: Context) => string | undefined {
  const { connection, trustedProxies = 0 } = options
  if (typeof connection !== 'function') {
    throw new Error('Client address option "connection" must be a function')
  }
  if (!Number.isSafeInteger(trustedProxies) || trustedProxies < 0) {
    throw new Error('Client address option "trustedProxies" must be a non-negative integer')
  }
  return (c) => {
    if (trustedProxies > 0) {
      const hops = (c.req.header('X-Forwarded-For') ?? '').split(',').map((s) => s.trim())
      const client = hops.length >= trustedProxies ? hops[hops.length - trustedProxies] : ''
      if (client) return client
    }
    const address = connection(c)
    return typeof address === 'string' && address.length > 0 ? address : undefined
  }
}
