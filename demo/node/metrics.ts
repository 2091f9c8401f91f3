import { createHash } from 'node:crypto'
import { timingSafeEqual } from '../../src/util/compare.js'
import { isLoopbackAddress } from '../../src/util/loopback.js'

/**
 * `GET /metrics` for the demo: Prometheus text from an exporter (the package's
 * `prometheusExporter`); with `token` set the scraper must send `Authorization: Bearer <token>`
 * (compared in constant time), else 401; without one only loopback clients (by the connection's
 * address) are answered, others get 403.
 */
export function prometheusEndpoint(
  exporter: { contentType: string; metrics(): Promise<string> },
  token?: string,
): (request: Request, client: string | undefined) => Promise<Response> {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  const expected = token ? digest(`Bearer ${token}`) : undefined
  return async function metricsEndpoint(request, client) {
    if (expected) {
      // digests of both: the comparison shows neither the length nor where they differ
      const given = digest(request.headers.get('authorization') ?? '')
      if (!timingSafeEqual(given, expected))
        return Response.json(
          { error: 'metrics token required' },
          { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } },
        )
    } else if (client === undefined || !isLoopbackAddress(client)) {
      // without a token, only this machine may read the metrics (never a header's word for it)
      return Response.json(
        { error: 'metrics are served to loopback clients only: set METRICS_TOKEN' },
        { status: 403 },
      )
    }
    return new Response(await exporter.metrics(), {
      headers: { 'Content-Type': exporter.contentType, 'Cache-Control': 'no-store' },
    })
  }
}
