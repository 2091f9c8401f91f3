/**
 * The examples in `examples/`, run as a user runs them: `npm pack` once, each example copied into
 * a temp folder and installed from that tarball (its package.json's `file:` dependency pointed at
 * it), type-checked with its own tsconfig, started with its own scripts, and driven over HTTP:
 * login, a write, a read, logout, and a read refused after it.
 * - node-redis: `npm start` (tsx, @hono/node-server) on a real redis-server, then `/metrics`
 *   scraped; the same server under Bun (`npm run start:bun`) and Deno (`npm run start:deno`);
 *   its conformance tests (`hono-redis-session/testing` on the memory and ioredis stores) under
 *   vitest on Node, Bun (`bun --bun vitest`) and Deno (`deno run npm:vitest`);
 * - worker-upstash: `npm run dev` (wrangler dev), the Upstash store through the project's gateway
 *   in front of the same redis-server;
 * - pages: `npm run dev` (wrangler pages dev), likewise, plus its static page.
 * Bun and Deno are this repository's dev dependencies; their binaries are put first on PATH.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway } from '../helpers/gateway.js'
import { parseExposition, total } from '../helpers/exposition.js'
import { installApp, packPackage } from '../helpers/package.js'
import {
  cleanEnv,
  run,
  startServer,
  stopServers,
  waitForHttp,
  type ServerProcess,
} from '../helpers/processes.js'
import { freePort, startRedis, stopAll, type RedisServer } from '../helpers/redis.js'
import { CookieJar } from '../helpers/session-app.js'

const EXAMPLES = ['node-redis', 'worker-upstash', 'pages'] as const
const METRICS_TOKEN = 'example-metrics-token'
const SESSION_KEY = randomBytes(32).toString('base64url')
/** Bun's and Deno's binaries (dev dependencies of this repository) before the rest of PATH. */
const PATH = `${path.resolve('node_modules/.bin')}${path.delimiter}${process.env.PATH}`

let work: string
let redis: RedisServer
let gateway: Awaited<ReturnType<typeof startGateway>>
const dir = (example: (typeof EXAMPLES)[number]) => path.join(work, example)
/** What every example process gets: no module-resolution overrides, no metrics to Cloudflare. */
const env = (extra: Record<string, string> = {}) =>
  cleanEnv({
    PATH,
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_LOG_PATH: path.join(work, 'wrangler-logs'),
    DENO_DIR: path.join(work, 'deno'),
    CI: 'true',
    NO_COLOR: '1',
    ...extra,
  })

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'hrs-examples-'))
  const [tarball] = await Promise.all([
    packPackage(work),
    (async () => {
      redis = await startRedis()
      gateway = await startGateway({ url: redis.url })
    })(),
  ])
  await Promise.all(
    EXAMPLES.map((example) => installApp(path.resolve('examples', example), dir(example), tarball)),
  )
}, 240_000)

afterAll(async () => {
  await stopServers()
  await gateway?.close()
  await stopAll()
  if (work) rmSync(work, { recursive: true, force: true })
}, 30_000)

/** The HTTP a README reader would send: JSON login, a note written, read, logout. */
async function drive(base: string) {
  const jar = new CookieJar()
  const call = async (method: string, route: string, body?: string, json = false) => {
    const headers: Record<string, string> = {}
    if (jar.cookies.size) headers.cookie = jar.header()
    if (json) headers['content-type'] = 'application/json'
    const res = jar.take(
      await fetch(base + route, { method, body, headers, signal: AbortSignal.timeout(10_000) }),
    )
    return { status: res.status, body: (await res.json()) as unknown }
  }
  const steps = {
    wrongPassword: await call('POST', '/login', '{"user":"alice","password":"guess"}', true),
    anonymousRead: await call('GET', '/notes'),
    login: await call('POST', '/login', '{"user":"alice","password":"alice-password"}', true),
    cookie: jar.header(),
    write: await call('POST', '/notes', 'buy milk'),
    read: await call('GET', '/notes'),
    logout: await call('POST', '/logout'),
    afterLogout: await call('GET', '/notes'),
  }
  return { ...steps, cookieAfterLogout: jar.header() }
}

/** What {@link drive} must see from every example. */
function expectTheFlow(flow: Awaited<ReturnType<typeof drive>>) {
  const refused = { status: 401, body: { error: 'Sign-in required', code: 'ERR_SESSION_REQUIRED' } }
  expect(flow.wrongPassword).toEqual({ status: 401, body: { error: 'wrong user or password' } })
  expect(flow.anonymousRead).toEqual(refused)
  expect(flow.login).toEqual({ status: 200, body: { user: 'alice' } })
  expect(flow.cookie).toMatch(/^session=[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+$/)
  expect(flow.write).toEqual({ status: 200, body: { notes: ['buy milk'] } })
  expect(flow.read).toEqual({ status: 200, body: { user: 'alice', notes: ['buy milk'] } })
  expect(flow.logout).toEqual({ status: 200, body: { ok: true } })
  expect(flow.afterLogout).toEqual(refused)
  expect(flow.cookieAfterLogout).toBe('')
}

/** `npm run <script>` in `example`, serving on a free port; resolves once it answers HTTP. */
async function serve(
  example: (typeof EXAMPLES)[number],
  script: string,
  probe: string,
  extra: (port: number) => { args?: string[]; env?: Record<string, string> },
): Promise<{ base: string; server: ServerProcess }> {
  const port = await freePort()
  const { args = [], env: vars = {} } = extra(port)
  const server = startServer('npm', ['run', '--silent', script, ...args], {
    cwd: dir(example),
    env: env(vars),
  })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(base + probe, 90_000, server)
  return { base, server }
}

describe('every example', () => {
  it('type-checks with its own tsconfig (tsc --noEmit)', { timeout: 60_000 }, async () => {
    const results = await Promise.all(
      EXAMPLES.map((example) =>
        run(path.join(dir(example), 'node_modules/.bin/tsc'), ['--noEmit'], {
          cwd: dir(example),
          timeout: 60_000,
        }),
      ),
    )
    expect(results.map((r) => `${r.code} ${r.stdout}${r.stderr}`)).toEqual(EXAMPLES.map(() => '0 '))
  })
})

describe('examples/node-redis on a real redis-server', () => {
  const runtimes = [
    ['Node (npm start: tsx)', 'start'],
    ['Bun (npm run start:bun)', 'start:bun'],
    ['Deno (npm run start:deno)', 'start:deno'],
  ] as const

  for (const [runtime, script] of runtimes) {
    it(
      `under ${runtime}: the flow, then /metrics shows the requests and store calls`,
      {
        timeout: 60_000,
      },
      async () => {
        const { base, server } = await serve('node-redis', script, '/metrics', (port) => ({
          env: {
            PORT: String(port),
            REDIS_URL: redis.url,
            SESSION_KEY,
            METRICS_TOKEN,
            NODE_ENV: 'development',
          },
        }))
        const scrape = async (token = METRICS_TOKEN) => {
          const res = await fetch(`${base}/metrics`, {
            headers: { authorization: `Bearer ${token}` },
          })
          return { status: res.status, text: await res.text() }
        }
        expect((await scrape('wrong-token')).status).toBe(401)
        const before = parseExposition((await scrape()).text)
        expect(total(before, 'hono_session_http_requests_total')).toBe(0)
        expect(total(before, 'hono_session_store_calls_total')).toBe(0)

        expectTheFlow(await drive(base))

        const after = parseExposition((await scrape()).text)
        const requests = (labels: Record<string, string>) =>
          total(after, 'hono_session_http_requests_total', labels)
        // scrapes are not traffic: only the flow's seven requests
        expect(requests({})).toBe(7)
        expect(requests({ route_class: 'auth', method: 'POST', code: '401' })).toBe(1)
        expect(requests({ route_class: 'auth', method: 'POST', code: '200' })).toBe(2)
        expect(requests({ method: 'GET', code: '401' })).toBe(2)
        expect(requests({ method: 'GET', code: '200' })).toBe(1)
        expect(total(after, 'hono_session_http_request_duration_seconds_count')).toBe(7)
        const calls = (operation: string) =>
          total(after, 'hono_session_store_calls_total', { operation, result: 'ok' })
        // login creates; the write loads (requireSession) and commits; the read loads; logout destroys
        expect(['create', 'load', 'commit', 'destroy'].map(calls)).toEqual([1, 2, 1, 1])
        expect(total(after, 'hono_session_store_calls_total', { result: 'error' })).toBe(0)
        expect(total(after, 'hono_session_sessions_total', { event: 'authenticated' })).toBe(1)
        expect(total(after, 'hono_session_sessions_total', { event: 'destroyed' })).toBe(1)

        await server.stop()
        expect(server.output()).toContain('listening on http://127.0.0.1:')
      },
    )
  }

  const suites = [
    ['Node (npm test)', 'test', 'node'],
    ['Bun (npm run test:bun)', 'test:bun', 'bun'],
    ['Deno (npm run test:deno)', 'test:deno', 'deno'],
  ] as const

  for (const [runtime, script, name] of suites) {
    it(`its store conformance tests pass under ${runtime}`, { timeout: 90_000 }, async () => {
      const report = path.join(work, `conformance-${name}.json`)
      // A probe beside the example's own tests: the runtime that runs vitest's workers.
      writeFileSync(
        path.join(dir('node-redis'), 'test', 'runtime.test.ts'),
        `import { expect, it } from 'vitest'
         it('runs under the expected runtime', () => {
           const v = process.versions as Record<string, string | undefined>
           expect(v.bun ? 'bun' : v.deno ? 'deno' : 'node').toBe(process.env.EXPECT_RUNTIME)
         })\n`,
      )
      const result = await run(
        'npm',
        ['run', '--silent', script, '--', '--reporter=json', `--outputFile=${report}`],
        {
          cwd: dir('node-redis'),
          env: env({ REDIS_URL: redis.url, EXPECT_RUNTIME: name }),
          timeout: 90_000,
        },
      )
      const json = JSON.parse(readFileSync(report, 'utf8')) as {
        numTotalTests: number
        numPassedTests: number
        testResults: { name: string; assertionResults: { status: string }[] }[]
      }
      expect(result.code, result.stdout + result.stderr).toBe(0)
      const files = json.testResults.map((f) => [path.basename(f.name), f.assertionResults.length])
      // 35 cases per store (every part of the contract) and the probe, all passed, none skipped
      expect(files.sort()).toEqual([
        ['runtime.test.ts', 1],
        ['store.test.ts', 70],
      ])
      expect([json.numPassedTests, json.numTotalTests]).toEqual([71, 71])
    })
  }
})

describe('the Cloudflare examples through the gateway in front of redis-server', () => {
  const devVars = (example: (typeof EXAMPLES)[number]) =>
    writeFileSync(
      path.join(dir(example), '.dev.vars'),
      [
        `UPSTASH_REDIS_REST_URL=${gateway.url}`,
        `UPSTASH_REDIS_REST_TOKEN=${gateway.token}`,
        `SESSION_KEY=${SESSION_KEY}`,
        'LOCAL_DEV=1',
        '',
      ].join('\n'),
    )

  const cases = [
    ['examples/worker-upstash (npm run dev: wrangler dev)', 'worker-upstash', '', '/notes'],
    ['examples/pages (npm run dev: wrangler pages dev)', 'pages', '/api', '/'],
  ] as const

  for (const [title, example, prefix, probe] of cases) {
    it(`${title}: the flow, every store call over the gateway`, { timeout: 120_000 }, async () => {
      devVars(example)
      const inspector = await freePort()
      const { base, server } = await serve(example, 'dev', `${prefix}${probe}`, (port) => ({
        args: [
          '--',
          '--port',
          String(port),
          '--ip',
          '127.0.0.1',
          '--inspector-port',
          `${inspector}`,
        ],
      }))
      const before = gateway.requests()
      expectTheFlow(await drive(base + prefix))
      // create; load + commit; load; destroy: at least five store calls reached Redis
      expect(gateway.requests() - before).toBeGreaterThanOrEqual(5)
      if (example === 'pages') {
        const page = await fetch(`${base}/`)
        expect(await page.text()).toContain('functions/api/[[route]].ts')
      }
      await server.stop()
    })
  }
})
