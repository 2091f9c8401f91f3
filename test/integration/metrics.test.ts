/**
 * Metrics: the core recorder (route classes, per-second history, quantiles), the Prometheus
 * exposition on Node (`GET /metrics`: valid text format, counters that move with traffic), the
 * dashboard JSON, and S2 (no secret or token in metrics).
 */
import { TOTP } from 'otpauth'
import { describe, expect, it, vi } from 'vitest'
import { analyticsSink, logSample } from '../../demo/observability.js'
import { MetricsRecorder, activeSessionsProbe, classifyRoute } from '../../src/metrics/index.js'
import { prometheusExporter } from '../../src/metrics/prometheus.js'
import { prometheusEndpoint } from '../../demo/node/metrics.js'
import { memoryStore } from '../../src/store/memory.js'
import { demo } from '../helpers/demo.js'
import { parseExposition, total } from '../helpers/exposition.js'
import { CookieJar } from '../helpers/session-app.js'

function setup() {
  const store = memoryStore()
  const metrics = new MetricsRecorder()
  const activeSessions = activeSessionsProbe(store)
  const exporter = prometheusExporter(metrics, { activeSessions, defaultMetrics: true })
  const app = demo(store, {
    metrics,
    activeSessions,
    metricsEndpoint: prometheusEndpoint(exporter),
    // in-process requests come from this machine: a loopback client, as Prometheus beside it
    clientAddress: () => '127.0.0.1',
  })
  const scrape = async () => {
    const res = await app.call(new CookieJar(), 'GET', '/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    return { text, parsed: parseExposition(text) }
  }
  return { ...app, store, metrics, scrape }
}

describe('metrics recorder (core)', () => {
  it('classifies route patterns, never raw paths', () => {
    expect(classifyRoute('/healthz')).toBe('health')
    expect(classifyRoute('/metrics')).toBe('health')
    expect(classifyRoute('/app.css')).toBe('static')
    expect(classifyRoute('/app.js')).toBe('static')
    expect(classifyRoute('/login')).toBe('auth')
    expect(classifyRoute('/settings/2fa/verify')).toBe('auth')
    expect(classifyRoute('/api/2fa/verify')).toBe('auth')
    expect(classifyRoute('/settings/sessions/:id/revoke')).toBe('auth')
    expect(classifyRoute('/api/sessions/:id')).toBe('api')
    expect(classifyRoute('/admin/metrics.json')).toBe('api')
    expect(classifyRoute('/admin/dashboard')).toBe('page')
    expect(classifyRoute('/')).toBe('page')
  })

  it('keeps a rolling per-second history with quantiles, store errors and active sessions', () => {
    let now = 1_000_000
    const m = new MetricsRecorder({ historySeconds: 5, now: () => now })
    for (let i = 1; i <= 100; i++) m.recordRequest('api', 'GET', 200, i) // 1..100 ms
    m.onEvent({
      type: 'store-error',
      operation: 'load',
      code: 'ERR_SESSION_STORE',
      failOpen: false,
    })
    m.setActiveSessions(7)
    now += 1000
    m.recordRequest('page', 'GET', 503, 3)
    const h = m.history()
    expect(h).toHaveLength(5)
    const [a, b] = h.slice(-2)
    expect(a).toMatchObject({ requests: 100, storeErrors: 1, activeSessions: 7 })
    expect(a!.p50).toBeGreaterThan(40)
    expect(a!.p50).toBeLessThanOrEqual(60)
    expect(a!.p99).toBeGreaterThan(75)
    expect(a!.p99).toBeLessThanOrEqual(100)
    expect(b).toMatchObject({ requests: 1, errors: 1, activeSessions: 7 })
    expect(m.summary(1)).toMatchObject({ qps: 100, storeErrors: 1 })
    now += 10_000 // everything rolled out of the window
    expect(m.history().every((p) => p.requests === 0 && p.p50 === null)).toBe(true)
    expect(m.totals()).toMatchObject({ 'requests.api': 100, 'requests.page': 1 })
    expect(m.totals()['storeErrors.load']).toBe(1)
  })
})

describe('GET /metrics (Prometheus, Node)', () => {
  it('is valid exposition text; counters move with logins, invalid cookies, store calls and step-up failures', async () => {
    const { call, login, scrape } = setup()
    const before = (await scrape()).parsed
    const n = (p: typeof before, name: string, match?: Record<string, string>) =>
      total(p, name, match)

    // a login, a few API calls
    const alice = new CookieJar()
    await login(alice)
    await call(alice, 'POST', '/api/counter')
    await call(alice, 'GET', '/api/me')
    // invalid cookies: garbage and a tampered token
    const bad = new CookieJar()
    bad.cookies.set('session', 'not-a-token')
    await call(bad, 'GET', '/api/me')
    const tampered = new CookieJar()
    tampered.cookies.set(
      'session',
      alice.cookies.get('session')!.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')),
    )
    await call(tampered, 'GET', '/api/me')
    // a step-up failure: enrol TOTP, then confirm with a wrong code
    const { secret } = (await (
      await call(alice, 'POST', '/api/2fa/enrol', { password: 'alice-password' })
    ).json()) as {
      secret: string
    }
    const good = new TOTP({ secret }).generate()
    const wrong = good === '000000' ? '111111' : '000000'
    expect((await call(alice, 'POST', '/api/2fa/confirm', { code: wrong })).status).toBe(401)

    const { parsed: after, text } = await scrape()
    expect(n(after, 'hono_session_sessions_total', { event: 'authenticated' })).toBe(
      n(before, 'hono_session_sessions_total', { event: 'authenticated' }) + 1,
    )
    expect(n(after, 'hono_session_invalid_tokens_total')).toBe(
      n(before, 'hono_session_invalid_tokens_total') + 2,
    )
    expect(n(after, 'hono_session_step_up_failures_total', { reason: 'invalid' })).toBe(1)
    expect(n(after, 'hono_session_store_calls_total', { result: 'ok' })).toBeGreaterThan(
      n(before, 'hono_session_store_calls_total', { result: 'ok' }) + 3,
    )
    expect(
      n(after, 'hono_session_store_calls_total', { operation: 'create', result: 'ok' }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      n(after, 'hono_session_store_call_duration_seconds_count', { operation: 'create' }),
    ).toBeGreaterThanOrEqual(1)
    // requests per route class, labelled from route patterns only
    expect(n(after, 'hono_session_http_requests_total', { route_class: 'auth', code: '303' })).toBe(
      1,
    )
    expect(
      n(after, 'hono_session_http_requests_total', { route_class: 'api' }),
    ).toBeGreaterThanOrEqual(4)
    const classes = new Set(
      [...after.values()]
        .flat()
        .filter((s) => s.name === 'hono_session_http_requests_total')
        .map((s) => s.labels.route_class),
    )
    expect(
      [...classes].every((c) => ['page', 'api', 'auth', 'static', 'health', 'other'].includes(c!)),
    ).toBe(true)
    expect(
      n(after, 'hono_session_http_request_duration_seconds_count', { route_class: 'health' }),
    ).toBeGreaterThanOrEqual(1)
    // the active-sessions gauge: the memory store's count (anonymous + alice's)
    expect(n(after, 'hono_session_active_sessions')).toBeGreaterThanOrEqual(1)
    // Node process metrics are there too
    expect(after.has('hono_session_process_cpu_seconds_total')).toBe(true)
    // S2: no token or session id in metrics
    expect(text).not.toContain(alice.cookies.get('session')!)
    const { sessions } = (await (await call(alice, 'GET', '/api/sessions')).json()) as {
      sessions: { id: string }[]
    }
    for (const { id } of sessions) expect(text).not.toContain(id)
    expect(text).not.toContain(secret)
  })

  it('counts store errors per operation', async () => {
    const store = memoryStore()
    const metrics = new MetricsRecorder()
    const exporter = prometheusExporter(metrics, { defaultMetrics: false })
    // every call but create reaches the memory store (its methods live on its prototype)
    const failing = new Proxy(store, {
      get: (target, prop: keyof typeof store) =>
        prop === 'create'
          ? () => Promise.reject(new Error('down'))
          : typeof target[prop] === 'function'
            ? (target[prop] as (...a: unknown[]) => unknown).bind(target)
            : target[prop],
    })
    const { call, login } = demo(failing, {
      metrics,
      metricsEndpoint: prometheusEndpoint(exporter),
      clientAddress: () => '127.0.0.1', // in-process: this machine
    })
    expect((await login(new CookieJar())).status).toBe(503)
    const text = await (await call(new CookieJar(), 'GET', '/metrics')).text()
    const parsed = parseExposition(text)
    expect(total(parsed, 'hono_session_store_errors_total', { operation: 'create' })).toBe(1)
    expect(
      total(parsed, 'hono_session_store_calls_total', { operation: 'create', result: 'error' }),
    ).toBe(1)
    expect(
      metrics.summary(1).storeErrors + metrics.history(1)[0]!.storeErrors,
    ).toBeGreaterThanOrEqual(1)
  })

  it('METRICS_TOKEN: a bearer token is required when configured', async () => {
    const metrics = new MetricsRecorder()
    const exporter = prometheusExporter(metrics, { defaultMetrics: false })
    const endpoint = prometheusEndpoint(exporter, 's3cret-token')
    // with a token, from anywhere (and from this machine too)
    const from = '203.0.113.9'
    expect((await endpoint(new Request('http://localhost/metrics'), from)).status).toBe(401)
    expect((await endpoint(new Request('http://localhost/metrics'), '127.0.0.1')).status).toBe(401)
    const wrong = { headers: { Authorization: 'Bearer s3cret-tokeN' } }
    expect((await endpoint(new Request('http://localhost/metrics', wrong), from)).status).toBe(401)
    const right = { headers: { Authorization: 'Bearer s3cret-token' } }
    expect((await endpoint(new Request('http://localhost/metrics', right), from)).status).toBe(200)
  })

  it('attack: metrics open to anyone without METRICS_TOKEN', async () => {
    const metrics = new MetricsRecorder()
    const endpoint = prometheusEndpoint(prometheusExporter(metrics, { defaultMetrics: false }))
    const forged = { headers: { 'X-Forwarded-For': '127.0.0.1', Host: 'localhost' } }
    for (const client of ['203.0.113.9', '10.0.0.8', '::ffff:192.0.2.1', '2001:db8::1', undefined])
      expect([
        client,
        (await endpoint(new Request('http://localhost/metrics', forged), client)).status,
      ]).toEqual([client, 403])
    for (const client of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1'])
      expect([
        client,
        (await endpoint(new Request('http://localhost/metrics'), client)).status,
      ]).toEqual([client, 200])
  })
})

describe('health, readiness and the dashboard JSON', () => {
  it('/healthz and /readyz add version and store detail to their shapes', async () => {
    const { call } = setup()
    const health = await (await call(new CookieJar(), 'GET', '/healthz')).json()
    expect(health).toMatchObject({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) })
    const ready = await (await call(new CookieJar(), 'GET', '/readyz')).json()
    expect(ready).toMatchObject({
      status: 'ok',
      version: expect.any(String),
      store: { latencyMs: expect.any(Number), store: 'memory', sessions: expect.any(Number) },
    })
  })

  it('/admin/metrics.json and /admin/dashboard: admin only; numbers follow traffic', async () => {
    const { call, login } = setup()
    const alice = new CookieJar()
    await login(alice)
    expect((await call(alice, 'GET', '/admin/dashboard')).status).toBe(403)
    expect((await call(alice, 'GET', '/admin/metrics.json')).status).toBe(403)
    expect((await call(new CookieJar(), 'GET', '/admin/metrics.json')).status).toBe(401)
    const admin = new CookieJar()
    await login(admin, 'admin')
    for (let i = 0; i < 20; i++) await call(admin, 'POST', '/api/counter')
    const res = await call(admin, 'GET', '/admin/metrics.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const data = (await res.json()) as {
      series: { requests: number[]; p50: (number | null)[] }
      activeSessions: number
      totals: Record<string, number>
    }
    expect(data.series.requests).toHaveLength(300)
    expect(data.series.requests.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(22)
    expect(data.activeSessions).toBe(2)
    expect(data.totals['events.authenticated']).toBe(2)
    const page = await call(admin, 'GET', '/admin/dashboard')
    expect(page.status).toBe(200)
    const body = await page.text()
    expect(body).toContain('<script src="/app.js" defer></script>')
    expect(body).toContain('aria-live="polite"')
    expect(body).not.toMatch(/<script(?![^>]*src=)|<style|style=/)
    const js = await call(admin, 'GET', '/app.js')
    expect(js.headers.get('content-type')).toMatch(/javascript/)
  })
})

describe('Workers: JSON logs and Analytics Engine', () => {
  it('S2: one JSON line per event, ids shortened, no token; a data point per request', () => {
    const lines: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line))
    try {
      const id = 'a'.repeat(43)
      logSample({ type: 'rotated', id, previousId: 'b'.repeat(43), uid: 'alice' })
      logSample({ type: 'store-call', operation: 'load', durationMs: 1.234567, ok: true })
      logSample({ type: 'store-call', operation: 'load', durationMs: 500, ok: false })
      logSample({
        kind: 'request',
        routeClass: 'api',
        method: 'GET',
        status: 200,
        durationMs: 3.14159,
      })
      logSample(
        { kind: 'request', routeClass: 'api', method: 'GET', status: 200, durationMs: 1 },
        false,
      )
      const parsed = lines.map((l) => JSON.parse(l))
      expect(parsed).toEqual([
        {
          level: 'info',
          msg: 'session',
          type: 'rotated',
          id: 'aaaaaaaa',
          previousId: 'bbbbbbbb',
          uid: 'alice',
        },
        {
          level: 'info',
          msg: 'session',
          type: 'store-call',
          operation: 'load',
          durationMs: 500,
          ok: false,
        },
        {
          level: 'info',
          msg: 'request',
          routeClass: 'api',
          method: 'GET',
          status: 200,
          durationMs: 3.14,
        },
      ])
      expect(lines.join('\n')).not.toContain(id)
    } finally {
      spy.mockRestore()
    }
    const points: unknown[] = []
    const sink = analyticsSink({ writeDataPoint: (p) => void points.push(p) })
    sink({ kind: 'request', routeClass: 'auth', method: 'POST', status: 303, durationMs: 12.5 })
    sink({ type: 'invalid-token' })
    expect(points).toEqual([
      { indexes: ['auth'], blobs: ['auth', 'POST', '303'], doubles: [12.5, 303] },
    ])
  })
})
