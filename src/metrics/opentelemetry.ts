import {
  metrics,
  type Counter,
  type Histogram,
  type Meter,
  type ObservableCallback,
} from '@opentelemetry/api'
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

/** Options of {@link openTelemetryExporter}. */
export interface OpenTelemetryExporterOptions {
  /**
   * The meter the instruments are created on. Default the global meter provider's
   * `hono-redis-session` meter (a no-op until the app registers an SDK).
   */
  meter?: Meter
  /** Samples the number of active sessions (see `activeSessionsProbe`); none: no gauge value. */
  activeSessions?: () => Promise<number | null>
  /** Metric name prefix. Default `hono_session_`. */
  prefix?: string
}

/** What {@link openTelemetryExporter} returns. */
export interface OpenTelemetryExporter {
  /** Stops following the recorder and sampling active sessions. */
  close(): void
}

/**
 * OpenTelemetry metrics (`@opentelemetry/api`, any runtime with an SDK), fed by a
 * `MetricsRecorder`: the counters and histograms of `prometheusExporter` with the same names
 * (`hono_session_http_requests_total`, `hono_session_store_call_duration_seconds`, ...), the same
 * attributes (route_class, method, code, operation, ...), histograms in seconds (unit `s`) with
 * the same bucket bounds, and `hono_session_active_sessions` as an observable gauge.
 *
 * @param recorder - the recorder the session middleware and `metricsMiddleware` feed
 * @param options.meter - where the instruments live; default the global `hono-redis-session` meter
 * @param options.activeSessions - the gauge's sampler; default none
 * @param options.prefix - metric name prefix; default `hono_session_`
 * @example
 * ```ts
 * import { metrics as otel } from '@opentelemetry/api'
 * openTelemetryExporter(metrics, { meter: otel.getMeter('my-app') })
 * ```
 */
export function openTelemetryExporter(
  recorder: MetricsRecorder,
  options: OpenTelemetryExporterOptions = {},
): OpenTelemetryExporter {
  const {
    meter = metrics.getMeter('hono-redis-session'),
    prefix = DEFAULT_PREFIX,
    activeSessions,
  } = options
  if (typeof meter?.createCounter !== 'function')
    throw new Error('OpenTelemetry exporter option "meter" must be an @opentelemetry/api Meter')

  const instruments = {} as Record<SeriesKey, Counter | Histogram>
  for (const [key, spec] of Object.entries(SERIES) as [SeriesKey, (typeof SERIES)[SeriesKey]][]) {
    instruments[key] =
      spec.kind === 'counter'
        ? meter.createCounter(prefix + spec.name, { description: spec.help })
        : meter.createHistogram(prefix + spec.name, {
            description: spec.help,
            unit: 's',
            advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
          })
  }
  const gauge = meter.createObservableGauge(prefix + ACTIVE_SESSIONS.name, {
    description: ACTIVE_SESSIONS.help,
  })
  const observe: ObservableCallback = async (result) => {
    if (!activeSessions) return
    const value = await activeSessions().catch(() => null)
    if (value !== null) {
      result.observe(value)
      recorder.setActiveSessions(value)
    }
  }
  gauge.addCallback(observe)
  const apply = ({ series: key, labels, value }: SeriesUpdate) => {
    const instrument = instruments[key]
    if (SERIES[key].kind === 'counter') (instrument as Counter).add(value, labels)
    else (instrument as Histogram).record(value, labels)
  }
  ZERO_SERIES.forEach(apply)
  const unsubscribe = recorder.subscribe((sample) => updatesOf(sample).forEach(apply))
  return {
    close() {
      unsubscribe()
      gauge.removeCallback(observe)
    },
  }
}
