import { readFileSync } from 'node:fs'
import type { NodeDemoConfig } from '../config.js'

/** How the Node demo is reached: decides the cookie mode and what the app trusts. */
export type Transport =
  /** HTTPS served by this process (`TLS_CERT` + `TLS_KEY`). */
  | { mode: 'https'; cert: Buffer; key: Buffer; trustProxy: boolean }
  /** Plain HTTP behind a TLS-terminating proxy that sets `X-Forwarded-Proto` (`TRUST_PROXY=1`). */
  | { mode: 'proxy'; trustProxy: true }
  /** Plain HTTP on localhost: development only (no `Secure` cookie, other hosts refused). */
  | { mode: 'dev'; trustProxy: false }

/**
 * The transport the settings chose (`TLS_CERT` + `TLS_KEY`, `TRUST_PROXY`, parsed by
 * `nodeDemoConfig`), reading the PEM files. Throws a clear error naming the variable of a file
 * that cannot be read.
 */
export function openTransport(config: Pick<NodeDemoConfig, 'tls' | 'trustProxy'>): Transport {
  const { tls, trustProxy } = config
  if (tls) {
    const read = (name: string, path: string) => {
      try {
        return readFileSync(path)
      } catch (err) {
        throw new Error(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`)
      }
    }
    return {
      mode: 'https',
      cert: read('TLS_CERT', tls.certPath),
      key: read('TLS_KEY', tls.keyPath),
      trustProxy,
    }
  }
  return trustProxy ? { mode: 'proxy', trustProxy: true } : { mode: 'dev', trustProxy: false }
}

/** Paths that answer over plain HTTP even behind the proxy: load-balancer probes and scrapes. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * Behind a TLS-terminating proxy: takes the scheme from the first `X-Forwarded-Proto` value, so
 * the app (cookies, CSRF origin check) sees `https://` URLs. A request that did not come over
 * HTTPS is refused with 400 (C4), except the probe paths. Only use this when every request comes
 * through the proxy, which must overwrite (not append to) the header.
 */
export function forwardedProto(
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>,
): (request: Request, env?: unknown) => Response | Promise<Response> {
  return function trustProxy(request, env) {
    const url = new URL(request.url)
    const proto = request.headers.get('x-forwarded-proto')?.split(',', 1)[0]!.trim().toLowerCase()
    if (proto === 'https') {
      if (url.protocol !== 'https:') {
        url.protocol = 'https:'
        const body = request.method === 'GET' || request.method === 'HEAD' ? null : request.body
        request = new Request(url, {
          method: request.method,
          headers: request.headers,
          body,
          signal: request.signal,
          ...(body && { duplex: 'half' }),
        } as RequestInit)
      }
    } else if (url.protocol !== 'https:' && !PROBES.has(url.pathname)) {
      return Response.json(
        { error: 'HTTPS required', code: 'ERR_HTTPS_REQUIRED' },
        { status: 400, headers: { 'Cache-Control': 'no-store' } },
      )
    }
    return fetch(request, env)
  }
}

/**
 * The client's address behind the one trusted proxy (`TRUST_PROXY=1`): the last entry of
 * `X-Forwarded-For`, the one that proxy appended (entries before it are the client's to forge).
 */
export function forwardedClient(c: { req: { header(name: string): string | undefined } }) {
  const last = c.req.header('X-Forwarded-For')?.split(',').at(-1)?.trim()
  return last || undefined
}
