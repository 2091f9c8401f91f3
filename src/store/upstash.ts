/**
 * The Upstash store (any fetch runtime: Workers, Pages, Node, Deno, Bun): the same Lua scripts
 * as the ioredis store, over Upstash's REST API, or over the project's gateway in front of a
 * self-hosted Redis 6. No Node API: only fetch, WebCrypto and AbortSignal.
 */
import type { Redis } from '@upstash/redis'
import { assertPrefix, DEFAULT_PREFIX } from './keys.js'
import {
  bounded,
  boundedStore,
  firstLine,
  keySlot,
  redisScriptStore,
  type ScriptExec,
} from './redis-common.js'
import type { Store } from './types.js'

/** Options of {@link upstashStore}: a client, or the REST URL and token. */
export interface UpstashStoreOptions {
  /**
   * An `@upstash/redis` client to use as is; create it with `automaticDeserialization: false`
   * (and `retry`/`signal` settings that fit `timeoutMs`). Without it the store speaks the REST
   * protocol itself with `url` and `token`, which keeps Worker bundles small.
   */
  client?: Pick<Redis, 'evalsha' | 'eval' | 'ping'>
  /** REST URL (`UPSTASH_REDIS_REST_URL`, or the gateway's URL). */
  url?: string
  /** REST token (`UPSTASH_REDIS_REST_TOKEN`, or one of the gateway's tokens). */
  token?: string
  /** Key prefix, without `{` or `}`. Default `sess:`. */
  prefix?: string
  /** Bound on each store call (one HTTP request), milliseconds. Default 1000. */
  timeoutMs?: number
}

/** Sends one command; resolves with its result, rejects with the Redis error text. */
type Command = (command: (string | number)[]) => Promise<unknown>

/**
 * Creates a session store on Upstash (or the gateway) over HTTP.
 *
 * @param options.url / options.token - the REST endpoint and token, or
 * @param options.client - an `@upstash/redis` client created with `automaticDeserialization: false`
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
  const { prefix = DEFAULT_PREFIX, timeoutMs = 1000, client } = options
  assertPrefix(prefix)
  if (!(timeoutMs > 0)) throw new Error('Upstash store option "timeoutMs" must be positive')
  const send: Command = client ? viaClient(client) : viaFetch(options, timeoutMs)

  const exec: ScriptExec = async (call) => {
    const head = call.bySha ? ['EVALSHA', call.sha] : ['EVAL', call.script.source]
    try {
      return await send([...head, call.keys.length, ...call.keys, ...call.args])
    } catch (err) {
      // Clients echo the command (session data) in messages: keep only the Redis error text.
      const clean = new Error(firstLine(err instanceof Error ? err.message : String(err)))
      clean.name = err instanceof Error ? err.name : 'Error'
      throw clean
    }
  }

  // The REST endpoint may front a Redis Cluster (the gateway can): keys of one script must
  // share a slot, so a replaced session in another slot is deleted by a second request.
  const core = redisScriptStore({ exec, prefix, colocated: (a, b) => keySlot(a) === keySlot(b) })
  return {
    ...boundedStore(core, 'upstash store', timeoutMs),
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
 * answered `{ "result": ... }` or `{ "error": "<Redis error text>" }`. Each request is bounded
 * by its own `AbortSignal.timeout`; nothing is retried (a retry could outlast the bound).
 */
function viaFetch({ url, token }: UpstashStoreOptions, timeoutMs: number): Command {
  if (!url || !token) throw new Error('Upstash store needs { url, token } or { client }')
  if (!/^https?:\/\/[^\s/]+/.test(url))
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
    const text = await res.text()
    let reply: { result?: unknown; error?: unknown }
    try {
      reply = JSON.parse(text) as typeof reply
    } catch {
      throw new Error(`HTTP ${res.status} with a body that is not JSON`)
    }
    if (typeof reply.error === 'string') throw new Error(reply.error)
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    return reply.result ?? null
  }
}

/** Commands through an `@upstash/redis` client. */
function viaClient(client: NonNullable<UpstashStoreOptions['client']>): Command {
  return async ([name, ...rest]) => {
    if (name === 'PING') return client.ping()
    const [head, n, ...tail] = rest as [string, number, ...string[]]
    const keys = tail.slice(0, n)
    const args = tail.slice(n)
    return name === 'EVALSHA' ? client.evalsha(head, keys, args) : client.eval(head, keys, args)
  }
}
