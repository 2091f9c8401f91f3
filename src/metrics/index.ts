/**
 * `hono-redis-session/metrics`: the runtime-neutral recorder, its request-timing middleware and
 * the active-sessions probe. No exporter dependency: Prometheus is in `./metrics/prometheus`
 * (prom-client), OpenTelemetry in `./metrics/opentelemetry` (@opentelemetry/api).
 */
export {
  MetricsRecorder,
  metricsRecorder,
  LATENCY_BUCKETS_MS,
  type MetricsRecorderOptions,
  type MetricsSample,
  type MetricsListener,
  type RequestSample,
  type SecondPoint,
} from './recorder.js'
export { metricsMiddleware, routeClassOf, type MetricsMiddlewareOptions } from './middleware.js'
export {
  classifyRoute,
  methodLabel,
  METHOD_LABELS,
  type RouteClass,
  type RouteClassifier,
} from './labels.js'
export { activeSessionsProbe } from './active-sessions.js'
