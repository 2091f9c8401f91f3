/**
 * `npm run bench` (`-- --quick` for CI): every contender on one local redis-server, each in its
 * own process, driven by autocannon in one run, alternating contenders over rounds; medians.
 * Writes bench/results.md and bench/results.json (generated, git-ignored), or into `--out DIR`;
 * `--only read,write` runs those variants alone, `--contenders floor,gateway` those contenders,
 * `--rounds N` N rounds.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { onTheWire } from '../test/helpers/monitor.js'
import { freePort, startRedis, stopAll } from '../test/helpers/redis.js'
import { PREFIXES, contenders } from './contenders.js'
import {
  checkGateway,
  GATEWAY_TOKEN,
  startGateway,
  gatewayRequests,
  isGatewayContender,
  processCpuMs,
  type GatewayContender,
  type GatewayRequest,
} from './gateway.js'
import {
  addCommandStats,
  parseCommandStats,
  sentPerRequest,
  totalCalls,
  usecOfRequests,
  type CommandStat,
} from './redis-cost.js'
import { report, type Row } from './report.js'
import { cookieHeader, setupCookie, type RouteVariant } from './routes.js'

const quick = process.argv.includes('--quick')
const outAt = process.argv.indexOf('--out')
const onlyAt = process.argv.indexOf('--only')
/** `--only read,write`: those variants alone (default every one). */
const only = onlyAt > 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : undefined
const withAt = process.argv.indexOf('--contenders')
/** `--contenders floor,gateway`: those contenders alone (default every one). */
const chosen = withAt > 0 ? (process.argv[withAt + 1] ?? '').split(',') : undefined
const ROUNDS_AT = process.argv.indexOf('--rounds')
/** Where results.md and results.json go: `--out DIR`, default bench/. */
const outDir =
  outAt > 0 ? resolve(process.argv[outAt + 1] ?? '.') : fileURLToPath(new URL('.', import.meta.url))
// Short rounds, many of them: the machine's speed drifts over tens of seconds, and ratios are
// taken within a round, where the contenders ran next to each other.
const ROUNDS = ROUNDS_AT > 0 ? Number(process.argv[ROUNDS_AT + 1]) : quick ? 1 : 7
const SECONDS = quick ? 1 : 2
const CONNECTIONS = 10
const PROBE_ITERATIONS = 50
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))

type Id = keyof typeof contenders | GatewayContender
type Variant = RouteVariant
interface Step {
  method: 'GET' | 'POST'
  path: string
}
/**
 * The requests of one iteration. Most variants send one request with the cookie of a session
 * made by /setup; `login` sends a login (no cookie: create + authenticate) and then a logout
 * with the cookie that login set.
 */
const ITERATION: Record<Variant, { steps: Step[]; setupCookie: boolean }> = {
  read: { steps: [{ method: 'GET', path: '/read' }], setupCookie: true },
  write: { steps: [{ method: 'POST', path: '/write' }], setupCookie: true },
  'write-get-set': { steps: [{ method: 'POST', path: '/write-get-set' }], setupCookie: true },
  'write-blind': { steps: [{ method: 'POST', path: '/write-blind' }], setupCookie: true },
  'many-fields': { steps: [{ method: 'POST', path: '/many' }], setupCookie: true },
  login: {
    steps: [
      { method: 'POST', path: '/login' },
      { method: 'POST', path: '/logout' },
    ],
    setupCookie: false,
  },
}
const THIS: Id[] = ['this-ioredis', 'this-upstash-gateway', 'this-memory']
const WHO: Record<Variant, Id[]> = {
  // the gateway alone (a GET, the store's load script) next to the floor's GET
  read: [
    ...THIS,
    'express-session-connect-redis',
    'better-auth',
    'hono-sessions',
    'hono-session',
    'floor',
    'gateway',
    'gateway-evalsha',
  ],
  write: [...THIS, 'express-session-connect-redis', 'hono-sessions', 'hono-session', 'floor'],
  'write-get-set': THIS,
  'write-blind': THIS,
  'many-fields': [...THIS, 'express-session-connect-redis'],
  // better-auth: a signed-in session read and sign-in + sign-out; it has no counter to write
  // the floor: a raw SET and DEL behind the same two requests (an upper bound for any library)
  login: [...THIS, 'express-session-connect-redis', 'better-auth', 'floor'],
}

/** Starts a child that prints `READY` (or a JSON line) and resolves with that line. */
function ready(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 30_000)
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      resolve(line)
    })
  })
}

const children: ChildProcess[] = []
try {
  const redis = await startRedis()
  const raw = new Redis({ port: redis.port })
  const gatewayPort = await freePort()
  const token = GATEWAY_TOKEN
  const gateway = await startGateway(redis.url, gatewayPort)
  children.push(gateway)
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`

  const servers = new Map<keyof typeof contenders, { base: string; child: ChildProcess }>()
  const gatewayCalls = await gatewayRequests(redis.url, gatewayUrl, token)
  for (const id of Object.keys(contenders) as (keyof typeof contenders)[]) {
    const port = await freePort()
    const child = fork(here('./server.ts'), [id, redis.url, String(port), gatewayUrl, token], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    })
    children.push(child)
    await ready(child, id)
    servers.set(id, { base: `http://127.0.0.1:${port}`, child })
  }

  /** CPU milliseconds the contender's process has used so far. */
  const cpu = (id: Id) =>
    isGatewayContender(id)
      ? Promise.resolve(processCpuMs(gateway.pid!))
      : new Promise<number>((resolve) => {
          const { child } = servers.get(id)!
          child.once('message', (m) =>
            resolve(((m as NodeJS.CpuUsage).user + (m as NodeJS.CpuUsage).system) / 1000),
          )
          child.send('cpu')
        })
  /** Resolves once the contender has answered every request it received. */
  const idle = (id: Id) =>
    isGatewayContender(id)
      ? gatewayIdle(gatewayCalls.gateway)
      : new Promise<void>((resolve) => {
          const { child } = servers.get(id)!
          child.once('message', () => resolve())
          child.send('idle')
        })
  /** Drives one contender for `seconds` (the gateway ones with their one request). */
  const load = (id: Id, variant: Variant, cookie: string, seconds: number) =>
    isGatewayContender(id)
      ? driveGateway(gatewayCalls[id], seconds)
      : drive(servers.get(id)!.base, variant, cookie, seconds)
  const call = (base: string, step: Step, cookie: string) =>
    fetch(`${base}${step.path}`, {
      method: step.method,
      headers: cookie ? { Cookie: cookie, Origin: base } : { Origin: base },
    })
  /**
   * One iteration of a variant, as a browser would send it: the first step carries the setup
   * cookie (when the variant uses one), later steps the cookies the earlier ones set.
   */
  const iterate = async (base: string, v: Variant, setupCookie: string) => {
    let cookie = ITERATION[v].setupCookie ? setupCookie : ''
    const responses: { status: number; body: string }[] = []
    for (const step of ITERATION[v].steps) {
      const res = await call(base, step, cookie)
      const set = cookieHeader(res.headers.getSetCookie())
      if (set) cookie = set
      responses.push({ status: res.status, body: await res.text() })
    }
    return { responses, cookie }
  }
  /** Login, then the user is there; logout, then the same cookie has no user any more. */
  const checkLogin = async (id: Id, base: string) => {
    const login = await call(base, ITERATION.login.steps[0]!, '')
    await login.arrayBuffer()
    const jar = cookieHeader(login.headers.getSetCookie())
    const me = async () =>
      ((await (await call(base, { method: 'GET', path: '/me' }, jar)).json()) as { user: unknown })
        .user
    if ((await me()) === null) throw new Error(`${id}: no user after login`)
    const logout = await call(base, ITERATION.login.steps[1]!, jar)
    await logout.arrayBuffer()
    if (logout.status !== 200) throw new Error(`${id}: logout answered ${logout.status}`)
    if ((await me()) !== null) throw new Error(`${id}: the session outlived its logout`)
  }

  const rows: Row[] = []
  for (const variant of Object.keys(WHO) as Variant[]) {
    if (only && !only.includes(variant)) continue
    const ids = WHO[variant].filter((id) => !chosen || chosen.includes(id))
    const samples = new Map<
      Id,
      { rps: number[]; p50: number[]; p99: number[]; cpu: number[]; redis: RedisCost }
    >()
    const cookies = new Map<Id, string>()
    for (const id of ids) {
      samples.set(id, {
        rps: [],
        p50: [],
        p99: [],
        cpu: [],
        redis: { commands: new Map(), requests: 0 },
      })
      if (isGatewayContender(id)) {
        for (let i = 0; i < 2; i++) await checkGateway(id, gatewayCalls[id])
        cookies.set(id, '')
        continue
      }
      const { base } = servers.get(id)!
      cookies.set(id, await setupCookie(base, variant))
      // correctness first, with a browser-like cookie jar (cookie sessions travel in the cookie):
      // the variant answers 200, two writes count two, and a logged-out session is gone
      let jar = await setupCookie(base, variant)
      for (let i = 0; i < 2; i++) {
        const { responses, cookie } = await iterate(base, variant, jar)
        for (const res of responses)
          if (res.status !== 200)
            throw new Error(`${id} ${variant} answered ${res.status}: ${res.body}`)
        if (ITERATION[variant].setupCookie) jar = cookie
      }
      const read = { method: 'GET', path: '/read' } as const
      if (variant === 'write' || variant === 'write-get-set') {
        const { count } = (await (await call(base, read, jar)).json()) as { count: number }
        if (count !== 2) throw new Error(`${id}: two writes counted ${count}`)
      }
      if (variant === 'login') await checkLogin(id, base)
    }
    // warm up every contender (JIT, connection pools) before anything is recorded
    for (const id of ids) {
      await load(id, variant, cookies.get(id)!, quick ? 0.5 : 2)
      await idle(id)
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const id of round % 2 ? [...ids].reverse() : ids) {
        const before = await cpu(id)
        await raw.call('CONFIG', 'RESETSTAT')
        const result = await load(id, variant, cookies.get(id)!, SECONDS)
        await idle(id)
        const used = (await cpu(id)) - before
        const spent = parseCommandStats(String(await raw.call('INFO', 'commandstats')))
        if (result.non2xx || result.errors)
          throw new Error(`${id} ${variant}: ${result.non2xx} non-2xx, ${result.errors} errors`)
        const s = samples.get(id)!
        s.rps.push(result.requests.average)
        s.p50.push(result.latency.p50)
        s.p99.push(result.latency.p99)
        s.cpu.push(used / Math.max(1, result.requests.total))
        addCommandStats(s.redis.commands, spent)
        s.redis.requests += result.requests.total
      }
    }
    // ratios within each round (the contenders ran next to each other), then the median
    const ratioTo = (id: Id, base: Id) => {
      const b = samples.get(base)
      if (!b) return null
      const ratios = samples.get(id)!.rps.map((rps, round) => rps / b.rps[round]!)
      return Math.round(median(ratios) * 100) / 100
    }
    for (const id of ids) {
      const base = servers.get(id as keyof typeof contenders)?.base
      const cookie = cookies.get(id)!
      // with the ROLE the gateway writes behind a request: no round trip, but Redis time
      const wire = await onTheWire(
        [redis],
        async () => {
          for (let i = 0; i < PROBE_ITERATIONS; i++) {
            if (isGatewayContender(id)) await checkGateway(id, gatewayCalls[id])
            else await iterate(base!, variant, cookie)
          }
        },
        { role: true },
      )
      const commands = wire.filter((c) => !c.startsWith('role'))
      const requests = PROBE_ITERATIONS * ITERATION[variant].steps.length
      const prefix = PREFIXES[id]
      const s = samples.get(id)!
      const perRequest = (n: number) => Math.round((n / Math.max(1, s.redis.requests)) * 100) / 100
      rows.push({
        contender: id,
        variant,
        rps: median(s.rps),
        p50Ms: median(s.p50),
        p99Ms: median(s.p99),
        redisCommandsPerRequest: Math.round((commands.length / requests) * 100) / 100,
        bytesPerSession:
          prefix && base
            ? await bytesPerSession(raw, prefix, () => setupCookie(base, variant))
            : null,
        cpuMsPerRequest: Math.round(median(s.cpu) * 1000) / 1000,
        redisUsecPerRequest: perRequest(
          usecOfRequests(s.redis.commands, sentPerRequest(wire, requests), s.redis.requests),
        ),
        redisCallsPerRequest: perRequest(totalCalls(s.redis.commands)),
        storesInRedis:
          prefix !== undefined || id === 'this-upstash-gateway' || isGatewayContender(id),
        xFloor: ratioTo(id, 'floor'),
        xExpressSession: ratioTo(id, 'express-session-connect-redis'),
        xBetterAuth: ratioTo(id, 'better-auth'),
      })
    }
  }
  raw.disconnect()
  const { markdown, json } = report(rows, {
    quick,
    rounds: ROUNDS,
    seconds: SECONDS,
    connections: CONNECTIONS,
  })
  console.log(markdown)
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'results.md'), markdown)
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(json, null, 2) + '\n')
} finally {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) =>
          c.exitCode !== null ? resolve() : (c.once('exit', () => resolve()), c.kill('SIGTERM')),
        ),
    ),
  )
  await stopAll()
}

/** Redis server time spent on a contender's measured requests (INFO commandstats). */
interface RedisCost {
  commands: Map<string, CommandStat>
  requests: number
}

/** MEMORY USAGE of the keys one fresh session (the variant's payload) adds under a prefix. */
async function bytesPerSession(raw: Redis, prefix: string, setup: () => Promise<string>) {
  const keys = async () => {
    const out = new Set<string>()
    let cursor = '0'
    do {
      const [next, batch] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      for (const k of batch) out.add(k)
    } while (cursor !== '0')
    return out
  }
  const before = await keys()
  await setup()
  const added = [...(await keys())].filter((k) => !before.has(k))
  let bytes = 0
  for (const k of added) bytes += Number(await raw.call('MEMORY', 'USAGE', k))
  return added.length ? bytes : null
}

/**
 * Drives one contender with autocannon for `seconds`. Each connection repeats the variant's
 * steps; a step after the first sends the cookies the previous one set (login, then logout).
 */
function drive(base: string, variant: Variant, cookie: string, seconds: number) {
  const { steps, setupCookie } = ITERATION[variant]
  const headers = setupCookie ? { cookie, origin: base } : { origin: base }
  const common = { connections: CONNECTIONS, duration: seconds }
  if (steps.length === 1) {
    return autocannon({
      url: `${base}${steps[0]!.path}`,
      method: steps[0]!.method,
      headers,
      ...common,
    })
  }
  type Context = { cookie?: string }
  return autocannon({
    url: base,
    ...common,
    requests: steps.map((step, i): autocannon.Request => ({
      method: step.method,
      path: step.path,
      headers,
      setupRequest: (req, context) => {
        const { cookie } = context as Context
        return i > 0 && cookie ? { ...req, headers: { ...req.headers, cookie } } : req
      },
      onResponse: (_status, _body, context, h) => {
        const set = Object.entries(h ?? {}).find(([k]) => k.toLowerCase() === 'set-cookie')?.[1]
        if (set)
          (context as Context).cookie = cookieHeader(([] as unknown[]).concat(set).map(String))
      },
    })),
  })
}

/** Drives the gateway with one request, over and over, on every connection. */
function driveGateway(request: GatewayRequest, seconds: number) {
  return autocannon({ ...request, connections: CONNECTIONS, duration: seconds })
}

/**
 * Resolves once the gateway has answered what autocannon left in flight: a moment for the
 * last requests to reach Redis, then a PING behind them on the gateway's one connection.
 */
async function gatewayIdle(request: GatewayRequest): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20))
  const res = await fetch(request.url, { ...request, body: '["PING"]' })
  await res.arrayBuffer()
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
