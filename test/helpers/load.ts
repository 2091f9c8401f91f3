/**
 * Real-HTTP helpers for reliability tests: serve a Hono app on 127.0.0.1 with @hono/node-server,
 * a fetch client with a cookie jar and a per-request timeout, and a bounded load loop.
 *
 * Every request goes to 127.0.0.1 only; every loop is bounded in count and in time.
 */
import { serve } from '@hono/node-server'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KeyRing, secretToId } from '../../src/token.js'
import { keySlot } from '../../src/store/redis/slot.js'
import { CookieJar, KEY_A } from './session-app.js'

export interface Served {
  url: string
  port: number
  origin: string
  close(): Promise<void>
}

/** Serves `fetch` on 127.0.0.1 (port 0: the OS picks one). */
export function serveHttp(
  fetch: (req: Request) => Response | Promise<Response>,
  port = 0,
): Promise<Served> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname: '127.0.0.1' }) as Server
    server.once('error', reject)
    server.once('listening', () => {
      const p = (server.address() as AddressInfo).port
      const url = `http://127.0.0.1:${p}`
      resolve({
        url,
        port: p,
        origin: url,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r())
            server.closeAllConnections()
          }),
      })
    })
  })
}

/** The outcome of one HTTP request, never thrown. */
export interface Outcome {
  /** Milliseconds since the load started (or since the epoch when no start is given). */
  at: number
  ms: number
  /** HTTP status, or `hang` (client timeout hit) or `network` (connection error). */
  status: number | 'hang' | 'network'
  body: unknown
  retryAfter: string | null
  error?: string
}

/** True when a failed request failed the documented way: 503 + Retry-After + JSON error code. */
export function isClear503(o: Outcome): boolean {
  return (
    o.status === 503 &&
    o.retryAfter !== null &&
    typeof o.body === 'object' &&
    o.body !== null &&
    typeof (o.body as { code?: unknown }).code === 'string'
  )
}

/** A browser-like client of one served app: cookie jar, same-origin header, client timeout. */
export class HttpClient {
  readonly jar = new CookieJar()
  constructor(
    public base: Served,
    public timeoutMs = 3000,
  ) {}

  /** The raw session cookie value (the token), if any. */
  token(): string | undefined {
    return this.jar.cookies.get('session') ?? this.jar.cookies.get('__Host-session')
  }

  async request(
    method: string,
    path: string,
    form?: Record<string, string>,
    started = 0,
    base = this.base,
  ): Promise<Outcome> {
    const headers: Record<string, string> = { Origin: base.origin }
    if (this.jar.cookies.size) headers.Cookie = this.jar.header()
    let body: string | undefined
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(form).toString()
    }
    const t0 = Date.now()
    try {
      const res = await fetch(base.url + path, {
        method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      this.jar.take(res)
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // HTML or empty
      }
      return {
        at: t0 - started,
        ms: Date.now() - t0,
        status: res.status,
        body: parsed,
        retryAfter: res.headers.get('retry-after'),
      }
    } catch (error) {
      const name = (error as Error).name
      return {
        at: t0 - started,
        ms: Date.now() - t0,
        status: name === 'TimeoutError' || name === 'AbortError' ? 'hang' : 'network',
        body: null,
        retryAfter: null,
        error: String(error),
      }
    }
  }

  login(user = 'alice', base = this.base): Promise<Outcome> {
    return this.request('POST', '/login', { username: user, password: `${user}-password` }, 0, base)
  }
}

/** The Redis key of the session a token names (decrypted with the test key ring). */
export async function sessionKeyOf(
  token: string,
  keys = [KEY_A],
  prefix = 'sess:',
): Promise<{ key: string; slot: number; uid?: string }> {
  const claims = await new KeyRing(keys).open(token, Date.now())
  if (!claims) throw new Error('token does not open with the test key ring')
  const id = await secretToId(claims.sid)
  const key =
    claims.uid === undefined ? prefix + id : `${prefix}{${encodeURIComponent(claims.uid)}}:${id}`
  return { key, slot: keySlot(key), ...(claims.uid !== undefined ? { uid: claims.uid } : {}) }
}

/** Summary of a load run. */
export interface LoadReport {
  total: number
  ok: number
  /** Failures that were a clear 503 with Retry-After and a JSON body. */
  clear503: number
  /** Anything else that was not a 2xx: other status, network error, client timeout. */
  defects: Outcome[]
  maxMs: number
  /** First failure to the first success after the last failure, ms (0 when nothing failed). */
  windowMs: number
  firstFailureAt: number | null
  lastFailureAt: number | null
  /** Requests per second achieved. */
  rps: number
}

/** Summarises outcomes (`ok` decides what counts as success). */
export function summarise(
  outcomes: Outcome[],
  durationMs: number,
  ok: (o: Outcome) => boolean = (o) => typeof o.status === 'number' && o.status < 300,
): LoadReport {
  const sorted = [...outcomes].sort((a, b) => a.at - b.at)
  const failures = sorted.filter((o) => !ok(o))
  const first = failures[0]
  const last = failures.at(-1)
  const recovered = last ? sorted.find((o) => ok(o) && o.at > last.at) : undefined
  const windowMs = first ? (recovered ? recovered.at : last!.at + last!.ms) - first.at : 0
  return {
    total: outcomes.length,
    ok: outcomes.length - failures.length,
    clear503: failures.filter(isClear503).length,
    defects: failures.filter((o) => !isClear503(o)),
    maxMs: Math.max(0, ...outcomes.map((o) => o.ms)),
    windowMs,
    firstFailureAt: first?.at ?? null,
    lastFailureAt: last?.at ?? null,
    rps: Math.round((outcomes.length / durationMs) * 1000),
  }
}

/**
 * Runs `workers` concurrent loops, each calling `step(worker, i, started)` sequentially until
 * `durationMs` has passed or `maxRequestsPerWorker` steps were made. Steps must not throw.
 */
export async function runLoad<T>(opts: {
  workers: number
  durationMs: number
  maxRequestsPerWorker?: number
  pauseMs?: number
  step: (worker: number, i: number, started: number) => Promise<T>
  /** Called once, `atMs` after the start (e.g. to kill a master). */
  event?: { atMs: number; run: () => Promise<unknown> }
}): Promise<{ results: T[][]; started: number; eventAt: number | null }> {
  const started = Date.now()
  const max = opts.maxRequestsPerWorker ?? 100_000
  let eventAt: number | null = null
  let eventDone: Promise<unknown> = Promise.resolve()
  const timer = opts.event
    ? setTimeout(() => {
        eventAt = Date.now() - started
        eventDone = opts.event!.run()
      }, opts.event.atMs)
    : undefined
  const results = await Promise.all(
    Array.from({ length: opts.workers }, async (_, w) => {
      const mine: T[] = []
      for (let i = 0; i < max && Date.now() - started < opts.durationMs; i++) {
        mine.push(await opts.step(w, i, started))
        if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs))
      }
      return mine
    }),
  )
  clearTimeout(timer)
  await eventDone
  return { results, started, eventAt }
}

/** Polls `check` every `intervalMs` until true or `timeoutMs`; returns whether it became true. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return true
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** One parseable line: `[tag] k=v k=v ...`. */
export function figures(tag: string, values: Record<string, unknown>): string {
  const line =
    `[${tag}] ` +
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
  console.log(line)
  return line
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
