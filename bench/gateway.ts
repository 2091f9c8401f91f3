/**
 * The gateway alone, driven over HTTP as `@upstash/redis` would drive it: `POST /` with one
 * command. Two requests, next to the floor's bare `GET`:
 *   gateway          `["GET", k]` on a small string
 *   gateway-evalsha  `["EVALSHA", <load script>, "1", <session key>, ...]`, the script the
 *                    session store runs for a read (a live session, no extension due)
 * The gateway is a process of its own (src/gateway/main.ts, as `npm run gateway` runs it); its
 * CPU time is read from /proc (Linux), as it answers no IPC.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { ioredisStore } from '../src/store/ioredis.js'
import { load } from '../src/store/redis/load.js'
import { scriptSha } from '../src/store/redis/runner.js'

export const GATEWAY_CONTENDERS = ['gateway', 'gateway-evalsha'] as const
export type GatewayContender = (typeof GATEWAY_CONTENDERS)[number]

export function isGatewayContender(id: string): id is GatewayContender {
  return (GATEWAY_CONTENDERS as readonly string[]).includes(id)
}

/** The bearer token the bench's gateway accepts. */
export const GATEWAY_TOKEN = 'bench-gateway-token-0123456789'

/**
 * Starts the gateway as `npm run gateway` does (src/gateway/main.ts), with `nodeOptions` before
 * it (`--cpu-prof`, ...); resolves once it listens. `command` runs node under another program
 * (valgrind).
 */
export function startGateway(
  redisUrl: string,
  port: number,
  options: {
    nodeOptions?: string[]
    command?: string[]
    env?: Record<string, string>
    /** Another checkout's src/gateway/main.ts (to compare two versions; or BENCH_GATEWAY_MAIN). */
    main?: string
    /** Drop the process's stderr (valgrind's). */
    quiet?: boolean
  } = {},
): Promise<ChildProcess> {
  const main =
    options.main ??
    process.env.BENCH_GATEWAY_MAIN ??
    fileURLToPath(new URL('../src/gateway/main.ts', import.meta.url))
  const [program, ...pre] = [...(options.command ?? []), process.execPath]
  const child = spawn(program!, [...pre, ...(options.nodeOptions ?? []), '--import', 'tsx', main], {
    env: {
      ...process.env,
      ...options.env,
      REDIS_URL: redisUrl,
      GATEWAY_PORT: String(port),
      GATEWAY_TOKENS: GATEWAY_TOKEN,
    },
    stdio: ['ignore', 'pipe', options.quiet ? 'ignore' : 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', () => resolve(child))
  })
}

/** What autocannon sends to the gateway for one contender. */
export interface GatewayRequest {
  url: string
  method: 'POST'
  headers: Record<string, string>
  body: string
}

/** The prefix the gateway contenders' keys live under. */
export const GATEWAY_PREFIX = 'gw:'
const SESSION_ID = 'benchGatewaySession0123456789abcdefghijklmn'

/**
 * Writes the key and the session the two contenders read (through the library's ioredis store,
 * as a login would), loads the script, and returns both requests.
 */
export async function gatewayRequests(
  redisUrl: string,
  gatewayUrl: string,
  token: string,
): Promise<Record<GatewayContender, GatewayRequest>> {
  const raw = new Redis(redisUrl)
  const store = ioredisStore({ url: redisUrl, prefix: GATEWAY_PREFIX })
  try {
    await raw.set(`${GATEWAY_PREFIX}get`, JSON.stringify({ count: 0 }), 'PX', 3_600_000)
    const now = Date.now()
    const key = { id: SESSION_ID }
    await raw.del(`${GATEWAY_PREFIX}${SESSION_ID}`) // a session made by an earlier call
    await store.create(
      key,
      {
        fields: { count: '0' },
        meta: {
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 3_600_000,
          absoluteExpiresAt: now + 86_400_000,
        },
      },
      { now },
    )
    await raw.script('LOAD', load.script.source)
    // as the middleware asks on a read: extend only when the deadline is near (never, here)
    const { keys, args } = load.layout(GATEWAY_PREFIX, key, {
      now,
      extendIfBefore: now,
      extendTo: now + 3_600_000,
    })
    const sha = await scriptSha(load.script)
    const request = (command: string[]): GatewayRequest => ({
      url: `${gatewayUrl}/`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(command),
    })
    return {
      gateway: request(['GET', `${GATEWAY_PREFIX}get`]),
      'gateway-evalsha': request(['EVALSHA', sha, String(keys.length), ...keys, ...args]),
    }
  } finally {
    raw.disconnect()
    await store.close()
  }
}

/** Sends one request; throws unless the gateway answers 200 with a result of the expected kind. */
export async function checkGateway(id: GatewayContender, request: GatewayRequest): Promise<void> {
  const res = await fetch(request.url, request)
  const body = (await res.json()) as { result?: unknown; error?: string }
  const fine =
    res.status === 200 &&
    (id === 'gateway'
      ? body.result === '{"count":0}'
      : typeof body.result === 'string' && body.result.includes('count'))
  if (!fine) throw new Error(`${id} answered ${res.status}: ${JSON.stringify(body)}`)
}

/** User + system CPU time of a process so far, milliseconds (/proc/<pid>/stat, Linux). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // fields after the command name (which may hold spaces, in parentheses): utime is the 14th
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / CLOCK_TICKS
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100
