import { LATENCY_BUCKETS_MS, type MetricsSample } from './recorder.js'

/**
 * The metrics every exporter publishes, in one table: name (after the prefix), help, kind and
 * label names, and how a recorder sample moves them. The Prometheus and OpenTelemetry exporters
 * both read it, so their names, labels and numbers are the same by construction.
 */

export interface SeriesSpec {
  name: string
  help: string
  kind: 'counter' | 'histogram'
  labelNames: readonly string[]
}

export const SERIES = {
  requests: {
    name: 'http_requests_total',
    help: 'HTTP requests by route class (from the matched route pattern), method and status code.',
    kind: 'counter',
    labelNames: ['route_class', 'method', 'code'],
  },
  requestSeconds: {
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route class, seconds.',
    kind: 'histogram',
    labelNames: ['route_class'],
  },
  storeCalls: {
    name: 'store_calls_total',
    help: 'Session store calls by operation and result (ok or error).',
    kind: 'counter',
    labelNames: ['operation', 'result'],
  },
  storeSeconds: {
    name: 'store_call_duration_seconds',
    help: 'Session store call latency by operation, seconds.',
    kind: 'histogram',
    labelNames: ['operation'],
  },
  storeErrors: {
    name: 'store_errors_total',
    help: 'Session store failures by operation and error code.',
    kind: 'counter',
    labelNames: ['operation', 'code', 'fail_open'],
  },
  lifecycle: {
    name: 'sessions_total',
    help: 'Session lifecycle events: created, authenticated, rotated, destroyed, expired, evicted.',
    kind: 'counter',
    labelNames: ['event', 'reason'],
  },
  invalidTokens: {
    name: 'invalid_tokens_total',
    help: 'Requests whose session cookie was rejected (malformed, tampered, wrong key, expired).',
    kind: 'counter',
    labelNames: [],
  },
  stepUpFailures: {
    name: 'step_up_failures_total',
    help: 'Failed second-factor (step-up) attempts by reason.',
    kind: 'counter',
    labelNames: ['reason'],
  },
} as const satisfies Record<string, SeriesSpec>

export type SeriesKey = keyof typeof SERIES

/** The active-sessions gauge, sampled when the metrics are read. */
export const ACTIVE_SESSIONS = {
  name: 'active_sessions',
  help:
    'Active sessions as the store reports them, sampled at scrape time. Memory store: exact. ' +
    'Redis: keys in the database (sessions plus per-user indexes and values): an approximation.',
} as const

/** The default metric name prefix. */
export const DEFAULT_PREFIX = 'hono_session_'

/** Histogram bucket bounds in seconds (the recorder's latency buckets). */
export const LATENCY_BUCKETS_SECONDS = LATENCY_BUCKETS_MS.map((ms) => ms / 1000)

/** One move of one series: add `value` to a counter, or observe it in a histogram. */
export interface SeriesUpdate {
  series: SeriesKey
  labels: Record<string, string>
  value: number
}

/** Series that exist at zero from the start, so rates and alerts work before the first event. */
export const ZERO_SERIES: readonly SeriesUpdate[] = [
  { series: 'invalidTokens', labels: {}, value: 0 },
  ...['created', 'authenticated', 'rotated', 'expired', 'evicted'].map((event) => ({
    series: 'lifecycle' as const,
    labels: { event, reason: '' },
    value: 0,
  })),
]

/** What one sample of the recorder moves. */
export function updatesOf(sample: MetricsSample): SeriesUpdate[] {
  if ('kind' in sample) {
    const { routeClass, method, status, durationMs } = sample
    return [
      {
        series: 'requests',
        labels: { route_class: routeClass, method, code: String(status) },
        value: 1,
      },
      { series: 'requestSeconds', labels: { route_class: routeClass }, value: durationMs / 1000 },
    ]
  }
  switch (sample.type) {
    case 'store-call':
      return [
        {
          series: 'storeCalls',
          labels: { operation: sample.operation, result: sample.ok ? 'ok' : 'error' },
          value: 1,
        },
        {
          series: 'storeSeconds',
          labels: { operation: sample.operation },
          value: sample.durationMs / 1000,
        },
      ]
    case 'store-error': {
      const { operation, code, failOpen } = sample
      const labels = { operation, code, fail_open: String(failOpen) }
      return [{ series: 'storeErrors', labels, value: 1 }]
    }
    case 'invalid-token':
      return [{ series: 'invalidTokens', labels: {}, value: 1 }]
    case 'step-up-failed':
      return [{ series: 'stepUpFailures', labels: { reason: sample.reason }, value: 1 }]
    case 'destroyed':
      return [
        { series: 'lifecycle', labels: { event: 'destroyed', reason: sample.reason }, value: 1 },
      ]
    case 'evicted':
      return [
        { series: 'lifecycle', labels: { event: 'evicted', reason: '' }, value: sample.ids.length },
      ]
    default:
      return [{ series: 'lifecycle', labels: { event: sample.type, reason: '' }, value: 1 }]
  }
}
