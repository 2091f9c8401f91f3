import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { MetricsRecorder } from './recorder.js'
import {
  ACTIVE_SESSIONS,
  DEFAULT_PREFIX,
  LATENCY_BUCKETS_SECONDS,
  SERIES,
  ZERO_SERIES,
  updatesOf,
  type SeriesKey,
  type SeriesUpdate,
} from './series.js'

/** Options of {@link prometheusExporter}. */
export interface PrometheusExporterOptions {
  /**
   * The app's registry, shared with its other metrics (`@hono/prometheus`, its own): one
   * `/metrics` serves them all. Default a new one (the global registry is left alone).
   */
  registry?: Registry
  /** Samples the number of active sessions (see `activeSessionsProbe`); none: no gauge value. */
  activeSessions?: () => Promise<number | null>
  /** Metric name prefix. Default `hono_session_`. */
  prefix?: string
  /**
   * Also register Node's process metrics (CPU, memory, event loop lag) under the prefix.
   * Default false: an app that collects them already keeps its own.
   */
  defaultMetrics?: boolean
}

/** What {@link prometheusExporter} returns. */
export interface PrometheusExporter {
  /** The registry the metrics are in. */
  registry: Registry
  /** The registry's exposition content type. */
  contentType: string
  /** The registry's text exposition (every metric in it, not only the session's). */
  metrics(): Promise<string>
  /** Stops following the recorder (the registered metrics stay). */
  close(): void
}

type Moving = Counter<string> | Histogram<string>

/**
 * Prometheus metrics (prom-client, Node), fed by a `MetricsRecorder` and registered into the
 * registry the app passes: requests and their latency per route class, store calls, latency
 * and errors per operation, session lifecycle counters, invalid tokens, step-up failures, and an
 * active-sessions gauge sampled at scrape time. Labels are bounded: route class, method, status
 * code, store operation, event reason. The names and labels are those of `openTelemetryExporter`.
 *
 * @param recorder - the recorder the session middleware and `metricsMiddleware` feed
 * @param options.registry - where to register; default a new `Registry`
 * @param options.activeSessions - the gauge's sampler; default none
 * @param options.prefix - metric name prefix; default `hono_session_`
 * @param options.defaultMetrics - also Node's process metrics; default false
 * @example
 * ```ts
 * const registry = new Registry()
 * const { printMetrics, registerMetrics } = prometheus({ registry }) // @hono/prometheus
 * prometheusExporter(metrics, { registry, activeSessions: activeSessionsProbe(store) })
 * app.use(registerMetrics)
 * app.get('/metrics', printMetrics)
 * ```
 */
export function prometheusExporter(
  recorder: MetricsRecorder,
  options: PrometheusExporterOptions = {},
): PrometheusExporter {
  const {
    registry = new Registry(),
    prefix = DEFAULT_PREFIX,
    defaultMetrics = false,
    activeSessions,
  } = options
  if (!(registry instanceof Registry))
    throw new Error('Prometheus exporter option "registry" must be a prom-client Registry')
  const registers = [registry]
  if (defaultMetrics) collectDefaultMetrics({ register: registry, prefix })

  const series = {} as Record<SeriesKey, Moving>
  for (const [key, spec] of Object.entries(SERIES) as [SeriesKey, (typeof SERIES)[SeriesKey]][]) {
    const config = { name: prefix + spec.name, help: spec.help, labelNames: spec.labelNames }
    series[key] =
      spec.kind === 'counter'
        ? new Counter({ ...config, registers })
        : new Histogram({ ...config, buckets: LATENCY_BUCKETS_SECONDS, registers })
  }
  new Gauge({
    name: prefix + ACTIVE_SESSIONS.name,
    help: ACTIVE_SESSIONS.help,
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
  const apply = ({ series: key, labels, value }: SeriesUpdate) => {
    const metric = series[key]
    if (metric instanceof Counter) metric.inc(labels, value)
    else metric.observe(labels, value)
  }
  ZERO_SERIES.forEach(apply)
  const unsubscribe = recorder.subscribe((sample) => updatesOf(sample).forEach(apply))
  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    close: unsubscribe,
  }
}
