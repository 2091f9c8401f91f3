/**
 * Profiles one contender under load: `npm run bench:profile -- <contender> <variant> [seconds]`
 * (defaults: this-ioredis read 8). Starts a redis-server, runs the contender's server with
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
import { ROUTES, setupCookie, type RouteVariant } from './routes.js'

const [id = 'this-ioredis', variant = 'read', secondsText = '8'] = process.argv.slice(2)
if (!(id in contenders) || !(variant in ROUTES) || !(Number(secondsText) > 0)) {
  console.error(
    `usage: bench/profile.ts <${Object.keys(contenders).join('|')}> <${Object.keys(ROUTES).join('|')}> [seconds]`,
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
  const child = fork(
    fileURLToPath(new URL('./server.ts', import.meta.url)),
    [id, redis.url, String(port)],
    {
      execArgv: ['--import', 'tsx', '--cpu-prof', `--cpu-prof-dir=${dir}`],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  )
  await new Promise((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))
  const base = `http://127.0.0.1:${port}`
  const cookie = await setupCookie(base, variant as RouteVariant)
  const options = {
    url: base + path,
    method,
    headers: variant === 'login' ? { origin: base } : { cookie, origin: base },
    connections: 10,
  }
  await autocannon({ ...options, duration: 2 })
  const result = await autocannon({ ...options, duration: Number(secondsText) })
  console.log(
    `${id} ${variant}: ${Math.round(result.requests.average)} req/s under the profiler, p99 ${result.latency.p99} ms, ${result.non2xx} non-2xx`,
  )
  await new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
  const newest = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= started)
    .sort((a, b) => statSync(b).size - statSync(a).size)[0]
  if (newest) summarise(newest)
} finally {
  await stopAll()
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

/** Prints the top functions by self time and by inclusive time, as shares of busy time. */
function summarise(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[]
    samples: number[]
    timeDeltas: number[]
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const time = new Map<number, number>()
  profile.samples.forEach((s, i) => time.set(s, (time.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0)))
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
