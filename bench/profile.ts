/**
 * Profiles one contender under load: `npm run bench:profile -- <contender> <variant> [seconds]`
 * (defaults: this-ioredis read 8); `gateway` and `gateway-evalsha` (variant `read`) profile the
 * gateway process alone under its one request, `this-upstash-gateway` the store's server (a
 * gateway runs beside it). Starts a redis-server, runs the contender's server with
 * `--cpu-prof`, drives it with autocannon (2 s warm-up, then the measured run), and prints the
 * functions that took the most CPU, by self time and with their callees. The raw profile is
 * left in bench/profiles/ (git-ignored) for Chrome DevTools or speedscope.
 */
import { fork } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { freePort, startRedis, stopAll } from '../test/helpers/redis.js'
import { contenders } from './contenders.js'
import {
  GATEWAY_CONTENDERS,
  GATEWAY_TOKEN,
  gatewayRequests,
  isGatewayContender,
  startGateway,
} from './gateway.js'
import { ROUTES, setupCookie, type RouteVariant } from './routes.js'

const [id = 'this-ioredis', variant = 'read', secondsText = '8'] = process.argv.slice(2)
const ids = [...Object.keys(contenders), ...GATEWAY_CONTENDERS]
if (!ids.includes(id) || !(variant in ROUTES) || !(Number(secondsText) > 0)) {
  console.error(
    `usage: bench/profile.ts <${ids.join('|')}> <${Object.keys(ROUTES).join('|')}> [seconds]`,
  )
  process.exit(2)
}
const dir = fileURLToPath(new URL('./profiles/', import.meta.url))
mkdirSync(dir, { recursive: true })
const [method, path] = ROUTES[variant as RouteVariant]

const redis = await startRedis()
try {
  const port = await freePort()
  const started = Date.now()
  const profiler = ['--cpu-prof', `--cpu-prof-dir=${dir}`]
  // the Upstash store's contender needs a gateway beside it (not profiled: the store is)
  const gatewayPort = await freePort()
  const beside =
    id === 'this-upstash-gateway' ? await startGateway(redis.url, gatewayPort) : undefined
  const serverArgs = [id, redis.url, String(port)]
  if (beside) serverArgs.push(`http://127.0.0.1:${gatewayPort}`, GATEWAY_TOKEN)
  const child = isGatewayContender(id)
    ? await startGateway(redis.url, port, { nodeOptions: profiler })
    : fork(fileURLToPath(new URL('./server.ts', import.meta.url)), serverArgs, {
        execArgv: ['--import', 'tsx', ...profiler],
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      })
  const base = `http://127.0.0.1:${port}`
  let options: autocannon.Options
  if (isGatewayContender(id)) {
    const requests = await gatewayRequests(redis.url, base, GATEWAY_TOKEN)
    options = { ...requests[id], connections: 10 }
  } else {
    await new Promise((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))
    const cookie = await setupCookie(base, variant as RouteVariant)
    options = {
      url: base + path,
      method,
      headers: variant === 'login' ? { origin: base } : { cookie, origin: base },
      connections: 10,
    }
  }
  await autocannon({ ...options, duration: 2 })
  // V8 stamps samples with the monotonic clock in microseconds, as hrtime reads it
  const measuredFrom = Number(process.hrtime.bigint() / 1000n)
  const result = await autocannon({ ...options, duration: Number(secondsText) })
  console.log(
    `${id} ${variant}: ${Math.round(result.requests.average)} req/s under the profiler, p99 ${result.latency.p99} ms, ${result.non2xx} non-2xx`,
  )
  await new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
  beside?.kill('SIGTERM')
  const newest = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= started)
    .sort((a, b) => statSync(b).size - statSync(a).size)[0]
  if (newest) summarise(newest, measuredFrom)
} finally {
  await stopAll()
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

/**
 * Prints the top functions by self time and by inclusive time, as shares of busy time, over the
 * samples from `fromUs` on (the measured run: start-up and warm-up left out).
 */
function summarise(file: string, fromUs: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[]
    startTime: number
    samples: number[]
    timeDeltas: number[]
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const time = new Map<number, number>()
  let at = profile.startTime
  profile.samples.forEach((s, i) => {
    at += profile.timeDeltas[i] ?? 0
    if (at >= fromUs) time.set(s, (time.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|bench|test)\//, '$1/')}:${n.callFrame.lineNumber + 1}`
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let busy = 0
  for (const n of profile.nodes) {
    const t = time.get(n.id) ?? 0
    if (!t || n.callFrame.functionName === '(idle)') continue
    busy += t
    self.set(label(n), (self.get(label(n)) ?? 0) + t)
    const seen = new Set<string>()
    for (let at: number | undefined = n.id; at !== undefined; at = parent.get(at)) {
      const k = label(byId.get(at)!)
      if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + t)
      seen.add(k)
    }
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `${((t / busy) * 100).toFixed(1).padStart(6)}%  ${k}`)
      .join('\n')
  console.log(`\nbusy ${(busy / 1e6).toFixed(1)} s of CPU; profile: ${file}`)
  console.log(`\nself time\n${top(self, 25)}\n\nwith callees\n${top(inclusive, 45)}`)
}
