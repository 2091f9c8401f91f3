/**
 * `POST /subscribe/<channel>[/<channel>...]` and `POST /psubscribe/<pattern>[/...]` (GET too):
 * the server-sent-event stream that `@upstash/redis`'s `subscribe()` and `psubscribe()` read
 * (events in `./sse.ts`), each on a Redis connection of its own (`./subscriber.ts`).
 *
 * | request | answer |
 * |---|---|
 * | subscribed | 200 `text/event-stream`: `subscribe,<channel>,<n>` per name, then the messages |
 * | missing or wrong token | 401 (read-only tokens may subscribe: it reads; PUBLISH is a write) |
 * | no name, a name with a line break, `denyCommands` has SUBSCRIBE / PSUBSCRIBE | 400 |
 * | `maxSubscribers` streams already open, or the gateway shutting down | 503 |
 * | Redis refuses (ACL) / unreachable / no answer within the deadline | 400 / 503 / 504 |
 *
 * A stream ends, and its Redis connection is closed, when the client goes away, when the
 * client is more than 1 MiB behind (as Redis' own `client-output-buffer-limit pubsub` cuts a
 * slow subscriber), and when the gateway closes: then each name gets its `unsubscribe` event.
 */
import type { Context, Next } from 'hono'
import type { Cluster, Redis } from 'ioredis'
import { UNAUTHORIZED_BODY, type Authenticator } from './auth.js'
import { ExecutionProblem } from './execute.js'
import { withDeadline } from './lifecycle.js'
import { commandFromPath, readBody, RequestProblem, type RequestLimits } from './request.js'
import { countEvent, fitsOneLine, frame, HEARTBEAT, type SubscriptionKind } from './sse.js'
import { openSubscriber, type Subscriber } from './subscriber.js'
import { SYNC_TOKEN_HEADER } from './sync-token.js'

export interface SubscriptionsOptions {
  redis: Redis | Cluster
  auth: Authenticator
  /** Most streams open at once (0: subscriptions off). */
  maxSubscribers: number
  /** Deadline of subscribing (the stream itself has none), milliseconds. */
  timeoutMs: number
  limits: RequestLimits
  /** The gateway's `denyCommands`: SUBSCRIBE or PSUBSCRIBE there turns that endpoint off. */
  denyCommands?: string[] | undefined
  /** How often each stream gets a comment and its connection a PING, milliseconds. Default 15000. */
  heartbeatMs?: number
  /** The `Upstash-Sync-Token` of an answer past authentication (the gateway's read router). */
  syncToken?: (c: Context) => string | undefined
}

export interface Subscriptions {
  /** Handler for `/:verb/*`: serves `subscribe` and `psubscribe`, passes anything else on. */
  route(c: Context, next: Next): Promise<Response | void>
  /** Streams open or opening; each holds one Redis connection. */
  count(): number
  /** Ends every stream (with its `unsubscribe` events) and refuses new ones; idempotent. */
  close(): void
}

const KINDS = new Map<string, SubscriptionKind>([
  ['subscribe', 'subscribe'],
  ['psubscribe', 'psubscribe'],
])
/** How far behind a client may fall before its stream is cut, bytes. */
const MAX_BACKLOG_BYTES = 1024 * 1024

const encoder = new TextEncoder()

/** One open stream: its body, its subscriber, and the ways it ends. */
interface Stream {
  body: ReadableStream<Uint8Array>
  subscriber: Subscriber
  write(text: string): void
  /** `gateway`: send the unsubscribe events first; otherwise just stop. */
  end(why: 'client' | 'gateway' | 'failed'): void
}

/** Validates the options once (throwing with the option's name) and returns the endpoint. */
export function createSubscriptions(options: SubscriptionsOptions): Subscriptions {
  // A comment keeps proxies from closing idle streams and finds dead clients; the PING, a
  // Redis that went silent (the socket timeout of a connection waiting for a reply).
  const { redis, auth, timeoutMs, limits, heartbeatMs = 15_000 } = options
  const max = options.maxSubscribers
  if (!Number.isSafeInteger(max) || max < 0)
    throw new Error('createGateway: "maxSubscribers" must be a whole number (0 turns them off)')
  const denied = new Set((options.denyCommands ?? []).map((c) => c.trim().toUpperCase()))
  const streams = new Set<Stream>()
  let closing = false
  let heartbeat: ReturnType<typeof setInterval> | undefined

  const beat = () => {
    for (const stream of streams) {
      stream.write(HEARTBEAT)
      stream.subscriber.ping()
    }
  }
  const track = (stream: Stream) => {
    streams.add(stream)
    heartbeat ??= setInterval(beat, heartbeatMs)
    heartbeat.unref()
  }
  const untrack = (stream: Stream) => {
    streams.delete(stream)
    if (streams.size === 0 && heartbeat) {
      clearInterval(heartbeat)
      heartbeat = undefined
    }
  }

  /** `destroy` drops the client's connection, when the server gives a way to (node-server does). */
  function openStream(
    kind: SubscriptionKind,
    names: string[],
    destroy: (() => void) | undefined,
  ): Stream {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let ended = false
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => void (controller = c),
        cancel: () => stream.end('client'),
      },
      { highWaterMark: MAX_BACKLOG_BYTES, size: (chunk) => chunk.byteLength },
    )
    const stream: Stream = {
      body,
      subscriber: openSubscriber({ redis, kind, names, emit: (e) => stream.write(frame(e)) }),
      write(text) {
        if (ended) return
        controller.enqueue(encoder.encode(text))
        // The client reads no more: drop the connection rather than buffer without end.
        if (controller.desiredSize! < 0) {
          stop()
          if (destroy) destroy()
          else controller.error(new Error('subscriber too slow: more than 1 MiB behind'))
        }
      },
      end(why) {
        if (ended) return
        if (why === 'gateway') {
          const type = kind === 'subscribe' ? 'unsubscribe' : 'punsubscribe'
          const distinct = [...new Set(names)]
          distinct.forEach((name, i) =>
            stream.write(frame(countEvent(type, name, distinct.length - i - 1))),
          )
        }
        if (!ended) {
          try {
            controller.close()
          } catch {
            // already cancelled by the client
          }
          stop()
        }
      },
    }
    function stop() {
      ended = true
      stream.subscriber.close()
      untrack(stream)
    }
    return stream
  }

  /** Every answer past authentication carries the sync token, as the other routes' do. */
  const tokenHeader = (c: Context): Record<string, string> => {
    const token = options.syncToken?.(c)
    return token === undefined ? {} : { [SYNC_TOKEN_HEADER]: token }
  }

  async function open(c: Context, kind: SubscriptionKind): Promise<Response> {
    if (closing) throw new ExecutionProblem(503, 'ERR gateway is shutting down')
    await readBody(c.req.raw, limits.maxBodyBytes) // `[]` from the official client; unused
    const names = commandFromPath(new URL(c.req.url), null, limits).args
    if (names.length === 0)
      throw new RequestProblem(400, `ERR wrong number of arguments for '${kind}' command`)
    if (!names.every(fitsOneLine))
      throw new RequestProblem(400, `ERR a ${kind} name with a line break cannot be streamed`)
    if (denied.has(kind.toUpperCase()))
      throw new RequestProblem(400, `ERR '${kind}' is not allowed through the gateway`)
    if (streams.size >= max) {
      throw new ExecutionProblem(
        503,
        `ERR too many subscribers: this gateway serves at most ${max} at once (GATEWAY_MAX_SUBSCRIBERS)`,
      )
    }
    const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing
    const stream = openStream(kind, names, outgoing && (() => outgoing.destroy()))
    track(stream)
    const signal = c.req.raw.signal
    const gone = () => stream.end('client')
    signal.addEventListener('abort', gone, { once: true })
    try {
      await withDeadline(stream.subscriber.ready, timeoutMs)
    } catch (error) {
      stream.end('failed')
      throw closing ? new ExecutionProblem(503, 'ERR gateway is shutting down') : error
    }
    if (closing || signal.aborted) {
      stream.end('failed')
      throw new ExecutionProblem(503, 'ERR gateway is shutting down')
    }
    return c.body(stream.body, 200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no', // nginx: pass events on at once
      ...tokenHeader(c),
    })
  }

  return {
    async route(c, next) {
      const kind = KINDS.get(c.req.param('verb')?.toLowerCase() ?? '')
      // Hono answers HEAD with the GET handler and drops the body: a stream nobody would end
      if (!kind || c.req.method === 'HEAD') return next()
      c.header('Cache-Control', 'no-store')
      if (!auth.check(c.req.header('authorization'))) return c.json(UNAUTHORIZED_BODY, 401)
      try {
        return await open(c, kind)
      } catch (error) {
        if (error instanceof RequestProblem || error instanceof ExecutionProblem) {
          // The rest of an oversized body is never read: the connection cannot be reused.
          const headers = error.status === 413 ? { Connection: 'close' } : undefined
          return c.json({ error: error.message }, error.status, { ...headers, ...tokenHeader(c) })
        }
        throw error
      }
    },
    count: () => streams.size,
    close() {
      closing = true
      for (const stream of [...streams]) stream.end('gateway')
    },
  }
}
