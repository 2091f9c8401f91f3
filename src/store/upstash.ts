/**
 * The Upstash store (any fetch runtime: Workers, Pages, Node, Deno, Bun): the same Lua scripts
 * as the ioredis store, over Upstash's REST API, or over the project's gateway in front of a
 * self-hosted Redis 6. No Node API: only fetch, WebCrypto, AbortSignal and timers.
 */
import type { Redis } from '@upstash/redis'
import { assertPrefix, DEFAULT_PREFIX } from './redis/layout.js'
import type { ScriptExec } from './redis/runner.js'
import { keySlot } from './redis/slot.js'
import { bounded, boundedStore, firstLine, redisScriptStore } from './redis/store.js'
import type { Store } from './types.js'

/** The part of an `@upstash/redis` client the store uses. */
export type UpstashClient = Pick<Redis, 'evalsha' | 'eval' | 'ping'>

/** Options of {@link upstashStore}: the REST URL and token, or a client. */
export interface UpstashStoreOptions {
  /** REST URL (`UPSTASH_REDIS_REST_URL`, or the gateway's URL). */
  url?: string
  /** REST token (`UPSTASH_REDIS_REST_TOKEN`, or one of the gateway's tokens). */
  token?: string
  /**
   * An `@upstash/redis` client to use instead of `url`/`token`, created with
   * {@link upstashClientOptions} (at least `automaticDeserialization: false`: the store refuses
   * a client that would JSON-parse session values).
   */
  client?: UpstashClient
  /** Key prefix, without `{` or `}`. Default `sess:`. */
  prefix?: string
  /** Bound on each store call, milliseconds (also each HTTP request's abort signal). Default 1000. */
  timeoutMs?: number
}

/** Settings for an `@upstash/redis` client given to {@link upstashStore} as `client`. */
export interface UpstashClientOptions {
  /** Session values are JSON text the store decodes itself: never parse them. */
  automaticDeserialization: false
  /** One HTTP request per store call, sent at once (no batching of concurrent calls). */
  enableAutoPipelining: false
  /** No sync-token header bookkeeping (each store call is a single atomic script). */
  readYourWrites: false
  latencyLogging: false
  enableTelemetry: false
  /** No retries: one attempt, bounded by `signal`. */
  retry: { retries: 0; backoff: () => number }
  /** A fresh `AbortSignal.timeout(timeoutMs)` per request. */
  signal: () => AbortSignal
}

const DEFAULT_TIMEOUT_MS = 1000

/**
 * The `@upstash/redis` settings that keep the store's contract (one request per call, bounded,
 * values untouched) when you pass your own client.
 *
 * @param timeoutMs - abort each request after this many milliseconds. Default 1000
 * @example
 * ```ts
 * import { Redis } from '@upstash/redis/cloudflare'
 * const client = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, ...upstashClientOptions() })
 * app.use(session({ store: upstashStore({ client }), keys }))
 * ```
 */
export function upstashClientOptions(timeoutMs = DEFAULT_TIMEOUT_MS): UpstashClientOptions {
  return {
    automaticDeserialization: false,
    enableAutoPipelining: false,
    readYourWrites: false,
    latencyLogging: false,
    enableTelemetry: false,
    retry: { retries: 0, backoff: () => 0 },
    signal: () => AbortSignal.timeout(timeoutMs),
  }
}

/** Sends one command; resolves with its result, rejects with the Redis error text. */
type Command = (command: (string | number)[]) => Promise<unknown>

/**
 * Creates a session store on Upstash (or the project's gateway) over HTTP: one request per
 * store call (two right after the server's script cache was flushed, and for a login that drops
 * an anonymous session living in another slot).
 *
 * @param options.url / options.token - the REST endpoint and token, or
 * @param options.client - an `@upstash/redis` client built with {@link upstashClientOptions}
 * @param options.prefix - key prefix. Default `sess:`
 * @param options.timeoutMs - bound on every call, milliseconds. Default 1000
 * @example
 * ```ts
 * import { upstashStore } from 'hono-redis-session/upstash'
 * const store = upstashStore({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN })
 * app.use(session({ store, keys }))
 * ```
 */
export function upstashStore(options: UpstashStoreOptions): Store {
  const { prefix = DEFAULT_PREFIX, timeoutMs = DEFAULT_TIMEOUT_MS, client } = options
  assertPrefix(prefix)
  if (!(timeoutMs > 0 && timeoutMs <= 2_147_483_647))
    throw new Error('Upstash store option "timeoutMs" must be a positive number of milliseconds')
  const send: Command = client ? viaClient(client, options) : viaFetch(options, timeoutMs)

  const exec: ScriptExec = async (call) => {
    const head = call.bySha ? ['EVALSHA', call.sha] : ['EVAL', call.script.source]
    try {
      return await send([...head, call.keys.length, ...call.keys, ...call.args])
    } catch (err) {
      // Clients echo the command (session data) in messages: keep only the Redis error text,
      // which still says NOSCRIPT when the script cache lacks the script.
      const clean = new Error(firstLine(err instanceof Error ? err.message : String(err)))
      clean.name = err instanceof Error ? err.name : 'Error'
      throw clean
    }
  }

  // The endpoint may front a Redis Cluster (the gateway can) and the store cannot tell: the
  // keys of one script must share a slot, so a replaced session in another slot (the anonymous
  // session dropped at login) is deleted by a second request.
  const core = redisScriptStore({
    exec,
    prefix,
    colocated: (a, b) => keySlot(a) === keySlot(b),
    // No script-free reads here: a REST endpoint may serve plain reads from replicas (Upstash's
    // read regions, the gateway's GATEWAY_READ_FROM=replicas), where a session destroyed on the
    // primary can still look live; scripts always run on the primary.
  })
  return {
    ...boundedStore(core, 'upstash store', timeoutMs),
    timeoutMs,
    ping: () =>
      bounded('upstash store', 'ping', timeoutMs, async () => {
        const started = performance.now()
        await send(['PING'])
        return { latencyMs: performance.now() - started, details: { mode: 'upstash' } }
      }),
  }
}

/**
 * The REST protocol itself: `POST <url>` with the command as a JSON array and a bearer token,
 * answered `{ "result": ... }` or `{ "error": "<Redis error text>" }`. Each request is aborted
 * by its own `AbortSignal.timeout`; nothing is retried (a retry could outlast the bound). This
 * is what `@upstash/redis` sends, without its 17 KiB (gzip) of command classes in the bundle.
 */
function viaFetch({ url, token }: UpstashStoreOptions, timeoutMs: number): Command {
  if (!url || !token)
    throw new Error('Upstash store requires options for "url" and "token" (or "client")')
  if (!/^https?:\/\/[^\s/]+\S*$/.test(url))
    throw new Error('Upstash store option "url" must be an http(s) URL')
  const endpoint = url.replace(/\/+$/, '')
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
  return async (command) => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify(command),
      signal: AbortSignal.timeout(timeoutMs),
    })
    // Never the body's text in an error: only the `error` field, which is Redis's own text.
    let reply: unknown
    try {
      reply = JSON.parse(await res.text())
    } catch (err) {
      if (err instanceof Error && err.name !== 'SyntaxError') throw err
      throw new Error(`HTTP ${res.status} with a body that is not JSON`)
    }
    if (typeof reply !== 'object' || reply === null) throw new Error(`HTTP ${res.status}`)
    if ('error' in reply && typeof reply.error === 'string') throw new Error(reply.error)
    if (!res.ok || !('result' in reply)) throw new Error(`HTTP ${res.status} without a result`)
    return reply.result
  }
}

/** Commands through an `@upstash/redis` client (whose own settings bound each request). */
function viaClient(client: UpstashClient, options: UpstashStoreOptions): Command {
  if (options.url !== undefined || options.token !== undefined)
    throw new Error('Upstash store takes either "client" or "url" and "token", not both')
  if (typeof client.evalsha !== 'function' || typeof client.ping !== 'function')
    throw new Error('Upstash store option "client" must be an @upstash/redis Redis client')
  // `opts` is the client's (protected) copy of its settings. A client that JSON-parses replies
  // would turn stored values such as '"x"' into 'x': refuse it rather than corrupt sessions.
  const settings = (client as { opts?: { automaticDeserialization?: boolean } }).opts
  if (settings && settings.automaticDeserialization !== false)
    throw new Error(
      'Upstash store option "client" must be created with automaticDeserialization: false (see upstashClientOptions())',
    )
  return async ([name, ...rest]) => {
    if (name === 'PING') return client.ping()
    const [head, n, ...tail] = rest as [string, number, ...string[]]
    const keys = tail.slice(0, n)
    const args = tail.slice(n)
    return name === 'EVALSHA' ? client.evalsha(head, keys, args) : client.eval(head, keys, args)
  }
}
