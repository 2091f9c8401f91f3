/**
 * Serves a gateway over HTTP with @hono/node-server (an optional peer, loaded by `listen()`
 * only: an app serving `gateway.app.fetch` itself does not need it), with a graceful stop. Used
 * by `main.ts` and by the tests (which listen on port 0 and read the port back).
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { importPeer } from '../util/peer.js'
import type { Gateway } from './app.js'

export interface ListenOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string
  /** Port; 0 picks a free one. Default 8079. */
  port?: number
  /** Time a client has to send the request headers, milliseconds. Default 10000 (Node: 60000). */
  headersTimeoutMs?: number
  /** Most open sockets; more are closed on arrival. Default 10000. */
  maxConnections?: number
}

export interface RunningGateway {
  /** `http://host:port`, the URL to give `@upstash/redis`. */
  url: string
  port: number
  server: Server
  /**
   * Stops accepting connections, closes idle keep-alive connections, waits for requests in
   * flight (bounded by the gateway's own `close()`), then drops whatever connection is left.
   * Does not close the Redis client.
   */
  stop(): Promise<void>
}

/**
 * Starts listening; resolves once the port is bound, rejects if it cannot be (or with a
 * `MissingPeerError` when @hono/node-server is not installed).
 */
export async function listen(
  gateway: Gateway,
  options: ListenOptions = {},
): Promise<RunningGateway> {
  const host = options.host ?? '127.0.0.1'
  const { serve } = await importPeer(
    '@hono/node-server',
    "The gateway's listen() (hono-redis-session/gateway) and the CLI's gateway command",
    () => import('@hono/node-server'),
  )
  return new Promise((resolve, reject) => {
    // A client trickling its headers holds a socket: 10 s, not Node's 60, checked every second
    // (Node looks every 30 s by default).
    const headersTimeout = options.headersTimeoutMs ?? 10_000
    const server = serve({
      fetch: gateway.app.fetch,
      hostname: host,
      port: options.port ?? 8079,
      serverOptions: {
        headersTimeout,
        requestTimeout: Math.max(300_000, headersTimeout),
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
      },
    }) as Server
    server.maxConnections = options.maxConnections ?? 10_000
    const onError = (error: Error) => reject(error)
    server.once('error', onError)
    server.once('listening', () => {
      server.off('error', onError)
      const port = (server.address() as AddressInfo).port
      const shown = host.includes(':') ? `[${host}]` : host
      let stopped: Promise<void> | undefined
      resolve({
        url: `http://${shown}:${port}`,
        port,
        server,
        stop() {
          stopped ??= (async () => {
            let done = false
            const closed = new Promise<void>((r) => server.close(() => r())).then(() => {
              done = true
            })
            server.closeIdleConnections()
            await gateway.close()
            // Handlers are done; give node-server a moment to write their responses, closing
            // each keep-alive connection as it turns idle, then drop whatever is left.
            for (let i = 0; i < 20 && !done; i++) {
              await new Promise((r) => setTimeout(r, 25))
              server.closeIdleConnections()
            }
            server.closeAllConnections()
            await closed
          })()
          return stopped
        },
      })
    })
  })
}
