import type { SessionEvent, SessionEventHandler } from '../events.js'
import { methodLabel, type RouteClass } from './labels.js'

/**
 * In-process metrics for any runtime (no Node API, no prom-client): counters, and a rolling
 * per-second history (requests, latency histogram, store errors, active sessions) for a live
 * dashboard. Fed by the session middleware's `onEvent` and by `metricsMiddleware`, which times
 * each request and labels it with a route class derived from the matched route pattern, never
 * from the raw path (bounded label cardinality, no ids or tokens in labels). Exporters
 * (Prometheus, OpenTelemetry, JSON logs, Analytics Engine) subscribe to it.
 */

/** One timed request, as given to listeners. */
export interface RequestSample {
  kind: 'request'
  routeClass: RouteClass
  /** One of `METHOD_LABELS`, else `OTHER`. */
  method: string
  status: number
  durationMs: number
}

export type MetricsSample = RequestSample | SessionEvent
export type MetricsListener = (sample: MetricsSample) => void

/** One second of history. Latency quantiles are in milliseconds, `null` without requests. */
export interface SecondPoint {
  /** Start of the second, epoch milliseconds. */
  t: number
  requests: number
  p50: number | null
  p99: number | null
  /** 5xx responses. */
  errors: number
  storeErrors: number
  /** Last sampled number of active sessions (carried forward), `null` before the first sample. */
  activeSessions: number | null
}

export interface MetricsRecorderOptions {
  /** Seconds of per-second history kept. Default 300. */
  historySeconds?: number
  /** The clock, epoch milliseconds. Default `Date.now`. */
  now?: () => number
}

/** Upper bounds of the latency buckets, milliseconds (also the Prometheus histogram buckets). */
export const LATENCY_BUCKETS_MS = [
  0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 250, 400, 600, 1000, 2000, 5000, 10000,
]

/** Estimates a quantile from bucket counts (linear inside the bucket). */
function quantile(counts: ArrayLike<number>, total: number, q: number): number | null {
  if (total === 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!
    if (n > 0 && seen + n >= rank) {
      const lo = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!
      const hi = LATENCY_BUCKETS_MS[i] ?? lo * 2
      return Math.round((lo + ((rank - seen) / n) * (hi - lo)) * 100) / 100
    }
    seen += n
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]! * 2
}

interface Slot {
  t: number
  requests: number
  errors: number
  storeErrors: number
  /** Active sessions sampled in this second, or null. */
  active: number | null
  buckets: Uint32Array
}

/**
 * Creates a recorder. See {@link MetricsRecorder}.
 *
 * @param options.historySeconds - seconds of per-second history kept; default 300
 * @param options.now - the clock, epoch milliseconds; default `Date.now`
 */
export function metricsRecorder(options: MetricsRecorderOptions = {}): MetricsRecorder {
  return new MetricsRecorder(options)
}

/**
 * Counters and a rolling per-second history, runtime-neutral. Exporters subscribe to its
 * samples: `prometheusExporter` (`hono-redis-session/metrics/prometheus`) and
 * `openTelemetryExporter` (`hono-redis-session/metrics/opentelemetry`).
 *
 * @example
 * ```ts
 * const metrics = metricsRecorder()
 * app.use(metricsMiddleware(metrics)) // before session(): times the whole request
 * app.use(session({ keys, store, onEvent: metrics.onEvent }))
 * app.get('/stats.json', (c) => c.json({ totals: metrics.totals(), last: metrics.history(60) }))
 * ```
 */
export class MetricsRecorder {
  readonly startedAt: number
  /** Totals since start: `requests.<class>`, `events.<type>`, `storeCalls.<op>`, `storeErrors.<op>`. */
  readonly counters = new Map<string, number>()
  #slots: Slot[]
  #listeners = new Set<MetricsListener>()
  #now: () => number
  #active: number | null = null

  constructor(options: MetricsRecorderOptions = {}) {
    const { historySeconds = 300, now = Date.now } = options
    if (!(Number.isInteger(historySeconds) && historySeconds > 0))
      throw new Error('Metrics option "historySeconds" must be a positive integer')
    this.#now = now
    this.startedAt = now()
    this.#slots = Array.from({ length: historySeconds }, () => ({
      t: -1,
      requests: 0,
      errors: 0,
      storeErrors: 0,
      active: null,
      buckets: new Uint32Array(LATENCY_BUCKETS_MS.length + 1),
    }))
  }

  /** Subscribes an exporter to every sample; returns the unsubscribe function. */
  subscribe(listener: MetricsListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The session middleware's `onEvent`: counts lifecycle and store events. */
  readonly onEvent: SessionEventHandler = (event) => {
    if (event.type === 'store-call') this.#inc(`storeCalls.${event.operation}`)
    else this.#inc(`events.${event.type}`)
    if (event.type === 'store-error') {
      this.#inc(`storeErrors.${event.operation}`)
      this.#slot().storeErrors++
    }
    this.#emit(event)
  }

  /**
   * Records one request (`metricsMiddleware` calls this). The method is labelled from a fixed
   * list (else `OTHER`), so a client inventing method tokens cannot add series.
   */
  recordRequest(routeClass: RouteClass, method: string, status: number, durationMs: number): void {
    this.#inc(`requests.${routeClass}`)
    const slot = this.#slot()
    slot.requests++
    if (status >= 500) slot.errors++
    let i = LATENCY_BUCKETS_MS.findIndex((le) => durationMs <= le)
    if (i < 0) i = LATENCY_BUCKETS_MS.length
    slot.buckets[i]!++
    this.#emit({ kind: 'request', routeClass, method: methodLabel(method), status, durationMs })
  }

  /** Records the latest count of active sessions (from a store sample). */
  setActiveSessions(n: number): void {
    this.#active = n
    this.#slot().active = n
  }

  get activeSessions(): number | null {
    return this.#active
  }

  /** Totals as a plain object (for JSON). */
  totals(): Record<string, number> {
    return Object.fromEntries(this.counters)
  }

  /** The last `seconds` seconds (default: all kept), oldest first, the current second included. */
  history(seconds = this.#slots.length): SecondPoint[] {
    const nowSec = Math.floor(this.#now() / 1000)
    const n = Math.min(seconds, this.#slots.length)
    const points: SecondPoint[] = []
    let active: number | null = null
    for (let s = nowSec - n + 1; s <= nowSec; s++) {
      const slot = this.#slots[s % this.#slots.length]!
      const live = slot.t === s
      const total = live ? slot.requests : 0
      if (live && slot.active !== null) active = slot.active
      points.push({
        t: s * 1000,
        requests: total,
        p50: live ? quantile(slot.buckets, total, 0.5) : null,
        p99: live ? quantile(slot.buckets, total, 0.99) : null,
        errors: live ? slot.errors : 0,
        storeErrors: live ? slot.storeErrors : 0,
        activeSessions: active,
      })
    }
    return points
  }

  /** Aggregates the last `seconds` whole seconds (the current one excluded): rates and quantiles. */
  summary(seconds = 10): {
    qps: number
    p50: number | null
    p99: number | null
    storeErrors: number
  } {
    const nowSec = Math.floor(this.#now() / 1000)
    const buckets = new Uint32Array(LATENCY_BUCKETS_MS.length + 1)
    let total = 0
    let storeErrors = 0
    for (let s = nowSec - seconds; s < nowSec; s++) {
      const slot = this.#slots[s % this.#slots.length]!
      if (slot.t !== s) continue
      total += slot.requests
      storeErrors += slot.storeErrors
      slot.buckets.forEach((v, i) => (buckets[i]! += v))
    }
    return {
      qps: Math.round((total / seconds) * 100) / 100,
      p50: quantile(buckets, total, 0.5),
      p99: quantile(buckets, total, 0.99),
      storeErrors,
    }
  }

  #slot(): Slot {
    const s = Math.floor(this.#now() / 1000)
    const slot = this.#slots[s % this.#slots.length]!
    if (slot.t !== s) {
      slot.t = s
      slot.requests = slot.errors = slot.storeErrors = 0
      slot.active = null
      slot.buckets.fill(0)
    }
    return slot
  }

  #inc(name: string): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + 1)
  }

  #emit(sample: MetricsSample): void {
    for (const listener of this.#listeners) {
      try {
        listener(sample)
      } catch {
        // an exporter must never break a request
      }
    }
  }
}
