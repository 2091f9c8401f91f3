/**
 * The package's metrics exports as an app uses them: `hono-redis-session/metrics` (recorder,
 * request-timing middleware, active-sessions probe), the Prometheus exporter registered into the
 * app's own prom-client Registry beside @hono/prometheus (one /metrics, over real HTTP on
 * @hono/node-server), and the OpenTelemetry exporter read through the SDK's in-memory exporter,
 * which must show the same numbers as the Prometheus side after the same traffic.
 */
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { prometheus } from '@hono/prometheus'
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type HistogramMetricData,
  type MetricData,
} from '@opentelemetry/sdk-metrics'
import { Hono } from 'hono'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { session, type SessionEnv } from '../../src/index.js'
import {
  METHOD_LABELS,
  activeSessionsProbe,
  metricsMiddleware,
  metricsRecorder,
  type MetricsRecorder,
} from '../../src/metrics/index.js'
import { openTelemetryExporter } from '../../src/metrics/opentelemetry.js'
import { prometheusExporter } from '../../src/metrics/prometheus.js'
import { SERIES } from '../../src/metrics/series.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { parseExposition, total, type Sample } from '../helpers/exposition.js'
import { CookieJar, KEY_A } from '../helpers/session-app.js'

/** An app as the README shows it: the recorder's middleware and the session's events. */
function userApp(recorder: MetricsRecorder, store: Store, registry?: Registry) {
  const app = new Hono<SessionEnv<{ count: number }>>()
  if (registry) {
    const { printMetrics, registerMetrics } = prometheus({ registry })
    app.use(registerMetrics)
    app.get('/metrics', printMetrics)
  }
  app.use(metricsMiddleware(recorder))
  app.use(session({ keys: [KEY_A], store, insecureLocalhost: true, onEvent: recorder.onEvent }))
  app.post('/login', (c) => {
    c.get('session').authenticate('alice', { roles: ['user'], amr: ['pwd'] })
    return c.json({ ok: true })
  })
  app.post('/api/counter', async (c) =>
    c.json({ count: await c.get('session').increment('count') }),
  )
  app.get('/api/me', (c) => c.json({ user: c.get('session').userId ?? null }))
  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.json({ ok: true })
  })
  return app
}

const servers: ServerType[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** Serves the app on a free port of 127.0.0.1; a cookie-jar client over real HTTP. */
async function listen(app: Hono<SessionEnv<{ count: number }>>) {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  servers.push(server)
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const call = async (jar: CookieJar, method: string, path: string) => {
    const headers: Record<string, string> = jar.cookies.size ? { Cookie: jar.header() } : {}
    const res = jar.take(await fetch(origin + path, { method, headers }))
    await res.arrayBuffer()
    return res
  }
  return { origin, call }
}

type Call = Awaited<ReturnType<typeof listen>>['call']

/** The same traffic for every test: a login, 3 counts, a read, a forged cookie, a logout. */
async function traffic(call: Call): Promise<CookieJar> {
  const alice = new CookieJar()
  expect((await call(alice, 'POST', '/login')).status).toBe(200)
  for (let i = 0; i < 3; i++) expect((await call(alice, 'POST', '/api/counter')).status).toBe(200)
  expect((await call(alice, 'GET', '/api/me')).status).toBe(200)
  const forged = new CookieJar()
  forged.cookies.set('session', 'not-a-token')
  expect((await call(forged, 'GET', '/api/me')).status).toBe(200)
  expect((await call(alice, 'POST', '/logout')).status).toBe(200)
  return alice
}

describe('Prometheus exporter in the app’s registry, beside @hono/prometheus', () => {
  it('one /metrics serves both; the session series move after real requests', async () => {
    const store = memoryStore()
    const recorder = metricsRecorder()
    const registry = new Registry()
    const exporter = prometheusExporter(recorder, {
      registry,
      activeSessions: activeSessionsProbe(store),
    })
    expect(exporter.registry).toBe(registry)
    const { origin, call } = await listen(userApp(recorder, store, registry))
    const scrape = async () => {
      const res = await fetch(`${origin}/metrics`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/) // @hono/prometheus' own
      return parseExposition(await res.text())
    }

    const before = await scrape()
    // both libraries' families are in the one exposition (a name clash would have thrown)
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds',
      'hono_session_http_requests_total',
      'hono_session_http_request_duration_seconds',
      'hono_session_store_calls_total',
      'hono_session_sessions_total',
      'hono_session_active_sessions',
    ])
      expect(before.has(name), name).toBe(true)
    // no process metrics unless asked: the app's registry stays the app's
    expect([...before.keys()].some((n) => n.includes('process_'))).toBe(false)
    expect(total(before, 'hono_session_http_requests_total')).toBe(0)
    expect(total(before, 'hono_session_invalid_tokens_total')).toBe(0)

    await traffic(call)
    const after = await scrape()
    // @hono/prometheus saw the same requests (and the first scrape)
    expect(total(after, 'http_requests_total', { route: '/api/counter', method: 'POST' })).toBe(3)
    expect(total(after, 'http_requests_total', { route: '/metrics' })).toBe(1)
    // ours: route classes from the patterns, methods and codes
    const requests = (match: Record<string, string>) =>
      total(after, 'hono_session_http_requests_total', match)
    expect(requests({ route_class: 'api', method: 'POST', code: '200' })).toBe(3)
    expect(requests({ route_class: 'api', method: 'GET', code: '200' })).toBe(2)
    expect(requests({ route_class: 'auth', method: 'POST', code: '200' })).toBe(2)
    expect(requests({})).toBe(7) // the scrape is mounted before metricsMiddleware: not counted
    expect(
      total(after, 'hono_session_http_request_duration_seconds_count', { route_class: 'api' }),
    ).toBe(5)
    // session lifecycle, tokens, store calls
    const lifecycle = (event: string) => total(after, 'hono_session_sessions_total', { event })
    expect(lifecycle('authenticated')).toBe(1)
    expect(lifecycle('destroyed')).toBe(1)
    expect(total(after, 'hono_session_invalid_tokens_total')).toBe(1)
    expect(
      total(after, 'hono_session_store_calls_total', { operation: 'create', result: 'ok' }),
    ).toBe(1)
    expect(total(after, 'hono_session_store_calls_total', { result: 'ok' })).toBeGreaterThan(4)
    expect(total(after, 'hono_session_store_calls_total', { result: 'error' })).toBe(0)
    expect(total(after, 'hono_session_store_call_duration_seconds_count')).toBe(
      total(after, 'hono_session_store_calls_total'),
    )
    // the gauge is sampled at scrape time: alice logged out, nothing is left
    expect(total(after, 'hono_session_active_sessions')).toBe(0)

    // close(): the exporter stops following the recorder, the registry keeps its metrics
    exporter.close()
    await traffic(call)
    const closed = await scrape()
    expect(total(closed, 'hono_session_http_requests_total')).toBe(7)
    expect(total(closed, 'http_requests_total', { route: '/api/counter' })).toBe(6)
  })

  it('attack: invented method tokens add no series (a Worker sees any token a client sends)', async () => {
    const recorder = metricsRecorder()
    const exporter = prometheusExporter(recorder)
    const app = userApp(recorder, memoryStore())
    for (let i = 0; i < 50; i++)
      expect((await app.request('http://localhost/api/me', { method: `M${i}X` })).status).toBe(404)
    await app.request('http://localhost/api/me', { method: 'get' })
    const parsed = parseExposition(await exporter.metrics())
    const methods = new Set(
      parsed.get('hono_session_http_requests_total')!.map((s) => s.labels.method),
    )
    expect([...methods].sort()).toEqual(['GET', 'OTHER'])
    expect(total(parsed, 'hono_session_http_requests_total', { method: 'OTHER' })).toBe(50)
    expect(METHOD_LABELS).toContain('GET')
  })

  it('a custom classifier sees route patterns, never the path a client sent', async () => {
    const recorder = metricsRecorder()
    const exporter = prometheusExporter(recorder)
    const seen: string[] = []
    const app = new Hono()
    app.use(
      metricsMiddleware(recorder, {
        classify: (pattern) => (seen.push(pattern), pattern.startsWith('/items') ? 'api' : 'page'),
      }),
    )
    app.get('/items/:id', (c) => c.text(c.req.param('id')))
    for (const id of ['secret-1', 'secret-2']) await app.request(`http://localhost/items/${id}`)
    await app.request('http://localhost/nowhere/secret-3')
    expect(seen).toEqual(['/items/:id', '/items/:id'])
    const text = await exporter.metrics()
    expect(text).not.toContain('secret')
    const parsed = parseExposition(text)
    expect(total(parsed, 'hono_session_http_requests_total', { route_class: 'api' })).toBe(2)
    expect(total(parsed, 'hono_session_http_requests_total', { route_class: 'other' })).toBe(1)
  })

  it('bad options are named at start', () => {
    const recorder = metricsRecorder()
    expect(() => prometheusExporter(recorder, { registry: {} as Registry })).toThrow(
      'Prometheus exporter option "registry" must be a prom-client Registry',
    )
    expect(() => openTelemetryExporter(recorder, { meter: {} as never })).toThrow(
      'OpenTelemetry exporter option "meter" must be an @opentelemetry/api Meter',
    )
    expect(() => metricsMiddleware(recorder, { classify: 'api' as never })).toThrow(
      'Metrics middleware option "classify" must be a function',
    )
    expect(() => activeSessionsProbe(memoryStore(), 0)).toThrow('"timeoutMs"')
  })
})

/** One series' identity: its labels, sorted. */
const key = (labels: Record<string, unknown>) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))

/** Prometheus samples of one family member (`name`, `name_count`, ...) by label set, `le` apart. */
function promSeries(parsed: Map<string, Sample[]>, name: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of parsed.get(name.replace(/_(count|sum|bucket)$/, '')) ?? parsed.get(name) ?? [])
    if (s.name === name) out.set(key(s.labels), s.value)
  return out
}

describe('OpenTelemetry exporter', () => {
  it('the same names, labels and numbers as the Prometheus exporter after the same traffic', async () => {
    const store = memoryStore()
    const recorder = metricsRecorder()
    const activeSessions = activeSessionsProbe(store)
    const prom = prometheusExporter(recorder, { activeSessions })
    const otelExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const reader = new PeriodicExportingMetricReader({
      exporter: otelExporter,
      exportIntervalMillis: 3_600_000, // read on demand only (forceFlush)
    })
    const provider = new MeterProvider({ readers: [reader] })
    try {
      openTelemetryExporter(recorder, { meter: provider.getMeter('test'), activeSessions })
      const { call } = await listen(userApp(recorder, store))
      const alice = new CookieJar()
      await call(alice, 'POST', '/login') // alice stays signed in: the gauge has something to count
      await traffic(call)
      // the two events this traffic has none of, fed as any app may feed the recorder
      recorder.onEvent({ type: 'step-up-failed', uid: 'alice', reason: 'invalid' })
      recorder.onEvent({
        type: 'store-error',
        operation: 'load',
        code: 'ERR_SESSION_STORE',
        failOpen: false,
      })

      await reader.forceFlush()
      const otel = new Map<string, MetricData>()
      for (const scope of otelExporter.getMetrics().at(-1)!.scopeMetrics)
        for (const metric of scope.metrics) otel.set(metric.descriptor.name, metric)
      const parsed = parseExposition(await prom.metrics())

      // the same families; an instrument nothing was recorded on is not exported by the SDK, and
      // has no sample in Prometheus either
      for (const name of otel.keys()) expect(parsed.has(name), name).toBe(true)
      expect(otel.size).toBe(Object.keys(SERIES).length + 1)
      for (const spec of Object.values(SERIES)) {
        const name = `hono_session_${spec.name}`
        const metric = otel.get(name)
        if (!metric) {
          expect(parsed.get(name), name).toEqual([])
          continue
        }
        expect(parsed.has(name), name).toBe(true)
        expect(metric.descriptor.description).toBe(spec.help)
        if (spec.kind === 'counter') {
          expect(metric.dataPointType, name).toBe(DataPointType.SUM)
          const values = new Map(
            metric.dataPoints.map((p) => [key(p.attributes), p.value as number]),
          )
          expect(values, name).toEqual(promSeries(parsed, name))
          continue
        }
        expect(metric.dataPointType, name).toBe(DataPointType.HISTOGRAM)
        expect(metric.descriptor.unit).toBe('s')
        const points = (metric as HistogramMetricData).dataPoints
        expect(new Map(points.map((p) => [key(p.attributes), p.value.count]))).toEqual(
          promSeries(parsed, `${name}_count`),
        )
        const sums = promSeries(parsed, `${name}_sum`)
        const buckets = promSeries(parsed, `${name}_bucket`)
        for (const p of points) {
          expect(p.value.sum).toBeCloseTo(sums.get(key(p.attributes))!, 9)
          // the same bounds on both sides ...
          const bounds = parsed
            .get(name)!
            .filter((s) => s.name === `${name}_bucket`)
            .filter(({ labels: { le, ...rest } }) => le && key(rest) === key(p.attributes))
            .map((s) => s.labels.le)
          expect(bounds).toEqual([...p.value.buckets.boundaries.map(String), '+Inf'])
          // ... and the same counts: OpenTelemetry's per bucket, Prometheus' cumulative
          let cumulative = 0
          p.value.buckets.counts.forEach((n, i) => {
            cumulative += n
            const le = p.value.buckets.boundaries[i]
            const labels = { ...p.attributes, le: le === undefined ? '+Inf' : String(le) }
            expect(buckets.get(key(labels)), `${name} ${key(labels)}`).toBe(cumulative)
          })
        }
      }
      // the numbers are the traffic's, not zero on both sides
      const requests = otel.get('hono_session_http_requests_total')!.dataPoints
      expect(requests.reduce((a, p) => a + (p.value as number), 0)).toBe(8)
      const gauge = otel.get('hono_session_active_sessions')!.dataPoints
      expect(gauge.map((p) => p.value)).toEqual([1])
      expect(total(parsed, 'hono_session_active_sessions')).toBe(1)
    } finally {
      await provider.shutdown()
    }
  })
})
