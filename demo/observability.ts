import type { MetricsSample } from '../src/metrics/index.js'

/** The part of Workers Analytics Engine's binding the demo uses. */
export interface AnalyticsEngineDataset {
  writeDataPoint(point: { blobs?: string[]; doubles?: number[]; indexes?: string[] }): void
}

/**
 * One structured log line (Workers Logs / `wrangler tail` parse JSON) per session event, and per
 * request unless `LOG_REQUESTS=0`. Never a secret or token: session ids are store ids (hashes of
 * the secret) and only their first 8 characters are logged; successful store calls are not logged
 * (they are in the request's latency), failed ones are.
 */
export function logSample(sample: MetricsSample, logRequests = true): void {
  let line: Record<string, unknown>
  if ('kind' in sample) {
    if (!logRequests) return
    const { routeClass, method, status, durationMs } = sample
    line = { msg: 'request', routeClass, method, status, durationMs: round(durationMs) }
  } else {
    if (sample.type === 'store-call' && sample.ok) return
    line = { msg: 'session', ...sample }
    for (const key of ['id', 'previousId'] as const)
      if (typeof line[key] === 'string') line[key] = (line[key] as string).slice(0, 8)
    if ('ids' in sample) line.ids = sample.ids.map((id) => id.slice(0, 8))
    if ('durationMs' in sample) line.durationMs = round(sample.durationMs)
  }
  console.log(JSON.stringify({ level: 'info', ...line }))
}

/**
 * Writes one Analytics Engine data point per request: index = route class; blobs = route class,
 * method, status; doubles = latency (ms), status. Query with the SQL API, e.g.
 * `SELECT blob1, quantileWeighted(0.99)(double1, _sample_interval) FROM <dataset> GROUP BY blob1`.
 */
export function analyticsSink(dataset: AnalyticsEngineDataset): (sample: MetricsSample) => void {
  return (sample) => {
    if (!('kind' in sample)) return
    dataset.writeDataPoint({
      indexes: [sample.routeClass],
      blobs: [sample.routeClass, sample.method, String(sample.status)],
      doubles: [sample.durationMs, sample.status],
    })
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100
