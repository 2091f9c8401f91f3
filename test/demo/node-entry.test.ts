/**
 * The Node entry (`demo/node.ts`) as a child process: HTTPS with TLS_CERT/TLS_KEY (self-signed
 * cert made here), TRUST_PROXY=1 behind a TLS-terminating proxy, the dev-mode default, and
 * /healthz, /readyz and /metrics over the wire with a real redis-server.
 */
import http from 'node:http'
import https from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, selfSignedCert, startNodeDemo, type DemoServer } from '../helpers/browser.js'
import { startRedis, stopAll, type RedisServer } from '../helpers/redis.js'

let redis: RedisServer
const servers: DemoServer[] = []

beforeAll(async () => {
  redis = await startRedis()
}, 60_000)

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  await stopAll()
})

/** A form POST over HTTP(S) (self-signed accepted); returns status, headers and body. */
function post(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}> {
  const body = new URLSearchParams(form).toString()
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? https : http).request(
      u,
      {
        method: 'POST',
        rejectUnauthorized: false,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (text += d))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const setCookie = (h: Record<string, string | string[] | undefined>) =>
  ([] as string[]).concat(h['set-cookie'] ?? [])

describe('node entry: transport modes', () => {
  it('C1/C4: HTTPS with TLS_CERT and TLS_KEY: __Host- cookie with Secure', async () => {
    const tls = await selfSignedCert()
    const demo = await startNodeDemo({ REDIS_URL: redis.url, TLS_CERT: tls.cert, TLS_KEY: tls.key })
    servers.push(demo)
    expect(demo.output()).toContain(`https://localhost:${demo.port}`)
    const login = await post(
      `${demo.origin}/login`,
      { username: 'alice', password: 'alice-password' },
      { Origin: demo.origin },
    )
    expect(login.status).toBe(303)
    const [cookie] = setCookie(login.headers)
    expect(cookie).toMatch(
      /^__Host-session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    const me = await get(`${demo.origin}/api/me`, { Cookie: cookie!.split(';')[0]! })
    expect(JSON.parse(me.body)).toEqual({ user: 'alice', roles: ['user'] })
    // a plain-HTTP cookie name is not accepted over HTTPS
    const plain = await get(`${demo.origin}/api/me`, {
      Cookie: `session=${cookie!.split(';')[0]!.split('=')[1]}`,
    })
    expect(plain.status).toBe(401)
  })

  it('TRUST_PROXY=1: X-Forwarded-Proto https gives secure cookies; plain HTTP is refused (400)', async () => {
    const demo = await startNodeDemo({ REDIS_URL: redis.url, TRUST_PROXY: '1' })
    servers.push(demo)
    const origin = 'https://app.example' // what the browser sees in front of the proxy
    const proxied = { 'X-Forwarded-Proto': 'https', Host: 'app.example', Origin: origin }
    const login = await post(
      `http://127.0.0.1:${demo.port}/login`,
      { username: 'alice', password: 'alice-password' },
      proxied,
    )
    expect(login.status).toBe(303)
    expect(setCookie(login.headers)[0]).toMatch(/^__Host-session=.*; Secure; SameSite=Lax$/)
    // the proxy said http (or nothing): refused, no session
    const plain = await post(
      `http://127.0.0.1:${demo.port}/login`,
      { username: 'alice', password: 'alice-password' },
      { 'X-Forwarded-Proto': 'http', Host: 'app.example', Origin: 'http://app.example' },
    )
    expect(plain.status).toBe(400)
    expect(JSON.parse(plain.body)).toMatchObject({ code: 'ERR_HTTPS_REQUIRED' })
    expect(setCookie(plain.headers)).toEqual([])
    expect((await get(`http://127.0.0.1:${demo.port}/`)).status).toBe(400)
    // probes still answer over plain HTTP
    expect((await get(`http://127.0.0.1:${demo.port}/healthz`)).status).toBe(200)
    // another origin is still refused by CSRF, even through the proxy
    const csrf = await post(
      `http://127.0.0.1:${demo.port}/login`,
      { username: 'alice', password: 'alice-password' },
      { ...proxied, Origin: 'https://evil.example' },
    )
    expect(csrf.status).toBe(403)
  })

  it('without TLS or TRUST_PROXY: localhost dev mode, X-Forwarded-Proto ignored', async () => {
    const demo = await startNodeDemo({ REDIS_URL: redis.url })
    servers.push(demo)
    const login = await post(
      `${demo.origin}/login`,
      { username: 'alice', password: 'alice-password' },
      { Origin: demo.origin, 'X-Forwarded-Proto': 'https' },
    )
    expect(login.status).toBe(303)
    expect(setCookie(login.headers)[0]).toMatch(/^session=.*; Path=\/; HttpOnly; SameSite=Lax$/)

    // /healthz: liveness with version; /readyz: store latency and replication state
    const health = JSON.parse((await get(`${demo.origin}/healthz`)).body)
    expect(health).toMatchObject({ status: 'ok', version: expect.any(String) })
    const ready = JSON.parse((await get(`${demo.origin}/readyz`)).body)
    expect(ready).toMatchObject({
      status: 'ok',
      version: health.version,
      store: { latencyMs: expect.any(Number), role: 'master', mode: 'standalone' },
      replication: { mode: 'standalone', role: 'master', replicas: 0, degraded: false },
    })

    // /metrics over the wire: Prometheus text with the active-sessions gauge from DBSIZE
    const metrics = await get(`${demo.origin}/metrics`)
    expect(metrics.status).toBe(200)
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const keys = Number(await redis.cli('DBSIZE'))
    expect(metrics.body).toContain(`hono_session_active_sessions ${keys}\n`)
    expect(metrics.body).toMatch(
      /hono_session_store_calls_total\{operation="create",result="ok"\} [1-9]/,
    )
  })

  it('refuses half a TLS configuration with a clear message', async () => {
    await expect(startNodeDemo({ TLS_CERT: '/nonexistent.pem' })).rejects.toThrow(
      /Set both TLS_CERT and TLS_KEY/,
    )
    await expect(
      startNodeDemo({ TLS_CERT: '/nonexistent.pem', TLS_KEY: '/nonexistent.pem' }),
    ).rejects.toThrow(/TLS_CERT: cannot read \/nonexistent\.pem \(ENOENT\)/)
  })
})
