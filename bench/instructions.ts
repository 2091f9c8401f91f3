/**
 * Instructions per request of one contender's server, counted by valgrind (callgrind), which
 * does not move with the machine's load the way seconds do:
 * `npm run bench:instructions -- <contender> <read|write|write-get-set|write-blind|many-fields|login>
 * [requests] [connections]` (defaults: this-ioredis read 4000 1). `gateway` and `gateway-evalsha`
 * (variant read) count the gateway process (src/gateway/main.ts) under its one request.
 *
 * The server runs under `valgrind --tool=callgrind --instr-atstart=no` with `--single-threaded`
 * (no JIT or GC threads); after 6000 warm-up requests counting is switched on with
 * `callgrind_control`, the requests are sent, and the total is divided by their number. One
 * connection gives the steadiest figures (about 1 % apart run to run on the memory store, 5 %
 * through Redis); several connections show batching (auto-pipelining) at the price of spread.
 * Needs valgrind (`apt-get install valgrind`). Store timeouts are raised (BENCH_TIMEOUT_MS):
 * everything runs some 50 times slower under valgrind.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freePort, startRedis, stopAll } from '../test/helpers/redis.js'
import { contenders } from './contenders.js'
import {
  GATEWAY_CONTENDERS,
  GATEWAY_TOKEN,
  gatewayRequests,
  isGatewayContender,
  startGateway,
} from './gateway.js'
import { ROUTES as ALL_ROUTES, cookieHeader, setupCookie } from './routes.js'

// login: each iteration is a login without a cookie, then a logout with the cookie it set (as
// in run.ts); its figure is per request, the mean of the two
const ROUTES = ALL_ROUTES
const WARM_UP = 6000

const [id = 'this-ioredis', variant = 'read', requestsText = '4000', connectionsText = '1'] =
  process.argv.slice(2)
const requests = Number(requestsText)
const connections = Number(connectionsText)
// the Upstash store needs a gateway process beside it: run.ts starts one, this does not; the
// gateway contenders (variant read) count the gateway process itself
const ids = [
  ...Object.keys(contenders).filter((c) => c !== 'this-upstash-gateway'),
  ...GATEWAY_CONTENDERS,
]
if (
  !ids.includes(id) ||
  !(variant in ROUTES) ||
  !(requests > 0) ||
  !(connections > 0) ||
  (variant === 'login' && requests % 2 !== 0) // an iteration is two requests
) {
  console.error(
    `usage: bench/instructions.ts <${ids.join('|')}> <${Object.keys(ROUTES).join('|')}> [requests] [connections]`,
  )
  process.exit(2)
}
const [method, path] = ROUTES[variant as keyof typeof ROUTES]
const control = (...args: string[]) => promisify(execFile)('callgrind_control', args)

const redis = await startRedis()
const dir = mkdtempSync(join(tmpdir(), 'callgrind-'))
const port = await freePort()
const valgrind = [
  'valgrind',
  '--tool=callgrind',
  '--instr-atstart=no',
  `--callgrind-out-file=${join(dir, 'out')}`,
]
const slow = { BENCH_TIMEOUT_MS: '60000', GATEWAY_TIMEOUT_MS: '60000', REDIS_TIMEOUT_MS: '60000' }
const server = isGatewayContender(id)
  ? await startGateway(redis.url, port, {
      command: valgrind,
      nodeOptions: ['--single-threaded'],
      env: slow,
      quiet: true,
    })
  : spawn(
      valgrind[0]!,
      [
        ...valgrind.slice(1),
        process.execPath,
        '--single-threaded',
        '--import',
        'tsx',
        fileURLToPath(new URL('./server.ts', import.meta.url)),
        id,
        redis.url,
        String(port),
      ],
      { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...slow } },
    )
try {
  const base = `http://127.0.0.1:${port}`
  let request: { url: string; method: string; headers: Record<string, string>; body?: string }
  if (isGatewayContender(id)) {
    request = (await gatewayRequests(redis.url, base, GATEWAY_TOKEN))[id]
  } else {
    await new Promise((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`valgrind exited with ${code}`)))
      createInterface({ input: server.stdout! }).once('line', resolve)
    })
    const cookie =
      variant === 'login' ? '' : await setupCookie(base, variant as keyof typeof ROUTES)
    request = { url: base + path, method, headers: { cookie, origin: base } }
  }
  const logout = { ...request, url: request.url.replace(/\/login$/, '/logout') }
  const call = async (r: typeof request) => {
    const res = await fetch(r.url, r)
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`${id} ${variant} answered ${res.status}`)
    return res
  }
  const send = async (n: number) => {
    let sent = 0
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (sent < n) {
          if (variant !== 'login') {
            sent++
            await call(request)
            continue
          }
          sent += 2
          const cookie = cookieHeader((await call(request)).headers.getSetCookie())
          await call({ ...logout, headers: { ...logout.headers, cookie } })
        }
      }),
    )
  }
  await send(WARM_UP)
  await control('-i', 'on', String(server.pid))
  await send(requests)
  await control('-d', String(server.pid))
  let total = 0
  for (const file of readdirSync(dir)) {
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))
    if (m) total += Number(m[1])
  }
  console.log(
    `${id} ${variant}: ${(total / requests / 1000).toFixed(1)} k instructions per request (${requests} requests, ${connections} connection(s))`,
  )
} finally {
  server.kill('SIGKILL')
  await stopAll()
  rmSync(dir, { recursive: true, force: true })
}
