import { createHash } from 'node:crypto'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { LATENCY_BUCKETS_MS, type MetricsRecorder } from '../../src/metrics.js'
import type { Store } from '../../src/store/types.js'
import { timingSafeEqual } from '../../src/util/compare.js'
import { isLoopbackAddress } from '../../src/util/loopback.js'
import { settleWithin } from '../../src/util/timeout.js'

/** Options of {@link prometheusExporter}. */
export interface PrometheusExporterOptions {
  /** Samples the number of active sessions (see {@link activeSessionsProbe}); none: no gauge value. */
  activeSessions?: () => Promise<number | null>
  /** Registry to register in. Default a new one (the global registry is left alone). */
  registry?: Registry
  /** Metric name prefix. Default `hono_session_`. */
  prefix?: string
  /** Also export Node's process metrics (CPU, memory, event loop lag). Default true. */
  defaultMetrics?: boolean
}

const seconds = LATENCY_BUCKETS_MS.map((ms) => ms / 1000)

/**
 * Prometheus metrics on Node (prom-client), fed by a {@link MetricsRecorder}: requests and their
 * latency per route class, store calls, latency and errors per operation, session lifecycle
 * counters, invalid tokens, step-up failures, and an active-sessions gauge sampled at scrape
 * time. Labels are bounded: route class, method, status code, store operation, event reason.
 *
 * @example
 * ```ts
 * const metrics = metricsRecorder()
 * const prom = prometheusExporter(metrics, { activeSessions: activeSessionsProbe(store) })
 * app.get('/metrics', async (c) => c.body(await prom.metrics(), 200, { 'Content-Type': prom.contentType }))
 * ```
 */
export function prometheusExporter(
  recorder: MetricsRecorder,
  options: PrometheusExporterOptions = {},
): { registry: Registry; contentType: string; metrics(): Promise<string>; close(): void } {
  const {
    registry = new Registry(),
    prefix = 'hono_session_',
    defaultMetrics = true,
    activeSessions,
  } = options
  const registers = [registry]
  if (defaultMetrics) collectDefaultMetrics({ register: registry, prefix })
  const n = (name: string) => prefix + name

  const requests = new Counter({
    name: n('http_requests_total'),
    help: 'HTTP requests by route class (from the matched route pattern), method and status code.',
    labelNames: ['route_class', 'method', 'code'] as const,
    registers,
  })
  const requestSeconds = new Histogram({
    name: n('http_request_duration_seconds'),
    help: 'HTTP request latency by route class, seconds.',
    labelNames: ['route_class'] as const,
    buckets: seconds,
    registers,
  })
  const storeCalls = new Counter({
    name: n('store_calls_total'),
    help: 'Session store calls by operation and result (ok or error).',
    labelNames: ['operation', 'result'] as const,
    registers,
  })
  const storeSeconds = new Histogram({
    name: n('store_call_duration_seconds'),
    help: 'Session store call latency by operation, seconds.',
    labelNames: ['operation'] as const,
    buckets: seconds,
    registers,
  })
  const storeErrors = new Counter({
    name: n('store_errors_total'),
    help: 'Session store failures by operation and error code.',
    labelNames: ['operation', 'code', 'fail_open'] as const,
    registers,
  })
  const lifecycle = new Counter({
    name: n('sessions_total'),
    help: 'Session lifecycle events: created, authenticated, rotated, destroyed, expired, evicted.',
    labelNames: ['event', 'reason'] as const,
    registers,
  })
  const invalidTokens = new Counter({
    name: n('invalid_tokens_total'),
    help: 'Requests whose session cookie was rejected (malformed, tampered, wrong key, expired).',
    registers,
  })
  const stepUpFailures = new Counter({
    name: n('step_up_failures_total'),
    help: 'Failed second-factor (step-up) attempts by reason.',
    labelNames: ['reason'] as const,
    registers,
  })
  new Gauge({
    name: n('active_sessions'),
    help:
      'Active sessions as the store reports them, sampled at scrape time. Memory store: exact. ' +
      'Redis: keys in the database (sessions plus per-user indexes and values): an approximation.',
    registers,
    async collect() {
      if (!activeSessions) return
      const value = await activeSessions().catch(() => null)
      if (value !== null) {
        this.set(value)
        recorder.setActiveSessions(value)
      }
    },
  })
  // Zero-valued series exist from the start, so rates and alerts work before the first event.
  invalidTokens.inc(0)
  for (const event of ['created', 'authenticated', 'rotated', 'expired', 'evicted'])
    lifecycle.inc({ event, reason: '' }, 0)

  const unsubscribe = recorder.subscribe((sample) => {
    if ('kind' in sample) {
      const { routeClass, method, status, durationMs } = sample
      requests.inc({ route_class: routeClass, method, code: String(status) })
      requestSeconds.observe({ route_class: routeClass }, durationMs / 1000)
      return
    }
    switch (sample.type) {
      case 'store-call':
        storeCalls.inc({ operation: sample.operation, result: sample.ok ? 'ok' : 'error' })
        storeSeconds.observe({ operation: sample.operation }, sample.durationMs / 1000)
        break
      case 'store-error':
        storeErrors.inc({
          operation: sample.operation,
          code: sample.code,
          fail_open: String(sample.failOpen),
        })
        break
      case 'invalid-token':
        invalidTokens.inc()
        break
      case 'step-up-failed':
        stepUpFailures.inc({ reason: sample.reason })
        break
      case 'destroyed':
        lifecycle.inc({ event: 'destroyed', reason: sample.reason })
        break
      case 'evicted':
        lifecycle.inc({ event: 'evicted', reason: '' }, sample.ids.length)
        break
      default:
        lifecycle.inc({ event: sample.type, reason: '' })
    }
  })
  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    close: unsubscribe,
  }
}

/** What an ioredis client offers for counting keys (standalone/Sentinel or Cluster). */
interface KeyCounter {
  dbsize?: () => Promise<number>
  isCluster?: boolean
  nodes?: (role: 'master') => { dbsize(): Promise<number> }[]
}

/**
 * A cheap sample of active sessions for a store: the memory store's exact count
 * (`ping().details.sessions`), a `keys` detail if the store reports one, else for the ioredis
 * store `DBSIZE` (summed over Cluster masters): every key of the database, so sessions plus
 * per-user indexes and values (and anything else in that DB): an approximation, O(1) in Redis.
 * Returns null when the store offers neither.
 */
export function activeSessionsProbe(store: Store, timeoutMs = 1000): () => Promise<number | null> {
  const client = (store as { client?: KeyCounter }).client
  const probe = async (): Promise<number | null> => {
    if (client?.isCluster && client.nodes) {
      const counts = await Promise.all(client.nodes('master').map((node) => node.dbsize()))
      return counts.reduce((a, b) => a + b, 0)
    }
    if (client?.dbsize) return client.dbsize()
    const { details } = await store.ping()
    for (const name of ['sessions', 'keys']) {
      const value = details?.[name]
      if (typeof value === 'number') return value
    }
    return null
  }
  return () => settleWithin(probe(), timeoutMs, null)
}

/**
 * `GET /metrics` for the demo: Prometheus text from an exporter; with `token` set the scraper
 * must send `Authorization: Bearer <token>` (compared in constant time), else 401; without one
 * only loopback clients (by the connection's address) are answered, others get 403.
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
