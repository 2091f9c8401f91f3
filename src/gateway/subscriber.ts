/**
 * One subscriber's own Redis connection. A connection in subscriber mode can run nothing but
 * (P)SUBSCRIBE, (P)UNSUBSCRIBE and PING, so it is never the shared command connection: each
 * stream gets a fresh one, made like the shared client's (same target, credentials, TLS and
 * timeouts) and closed with the stream.
 *
 * - Standalone and Sentinel: a duplicate of the shared client (through Sentinel it finds the
 *   current master). Cluster: a connection to one master, in turn; Redis Cluster broadcasts
 *   PUBLISH to every node, so any node sees every message (as ioredis' own Cluster subscriber
 *   relies on).
 * - Once subscribed, a lost connection is replaced (backoff up to 1 s, through Sentinel or
 *   another Cluster node) and the names subscribed again, announced by new `subscribe` events;
 *   what was published in between is lost, as pub/sub always loses it. The first attempt is
 *   not retried: the request fails instead.
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { classify, ExecutionProblem, isCluster } from './execute.js'
import { countEvent, messageEvent, type SubscriptionKind } from './sse.js'

export interface SubscriberOptions {
  /** The gateway's shared client: the model of the connection (never used for subscribing). */
  redis: Redis | Cluster
  kind: SubscriptionKind
  /** Channels or patterns, each free of line breaks. */
  names: string[]
  /** Receives each event (one line, in order): confirmations first, then messages. */
  emit: (event: string) => void
}

export interface Subscriber {
  /** Resolves when Redis confirmed every name; rejects with an `ExecutionProblem`. */
  ready: Promise<void>
  /** PING (allowed in subscriber mode): a silent Redis then trips the socket timeout. */
  ping(): void
  /** Closes the connection for good; idempotent. */
  close(): void
}

/** Our own reconnection (see above), never ioredis': one connection per stream at any time. */
const OWN_CONNECTION: Partial<RedisOptions> = {
  lazyConnect: true,
  enableOfflineQueue: false,
  retryStrategy: () => null,
  autoResubscribe: false,
  maxRetriesPerRequest: 0,
}

let nextNode = 0

function dedicatedConnection(redis: Redis | Cluster): Redis {
  if (!isCluster(redis)) return redis.duplicate(OWN_CONNECTION)
  const masters = redis.nodes('master')
  if (masters.length === 0)
    throw new ExecutionProblem(503, 'ERR Redis is unavailable (no Cluster node known yet)')
  return masters[nextNode++ % masters.length]!.duplicate(OWN_CONNECTION)
}

const reconnectDelay = (attempt: number) => Math.min(100 * 2 ** attempt, 1000)

/** Opens the connection and subscribes; see the module comment for what happens next. */
export function openSubscriber({ redis, kind, names, emit }: SubscriberOptions): Subscriber {
  let closed = false
  let established = false
  let current: Redis | undefined
  let attempts = 0
  let timer: ReturnType<typeof setTimeout> | undefined

  const replaceLater = () => {
    if (closed || !established || timer) return
    timer = setTimeout(() => {
      timer = undefined
      subscribe().then(
        () => (attempts = 0),
        () => {
          attempts++
          replaceLater()
        },
      )
    }, reconnectDelay(attempts))
    timer.unref()
  }

  async function subscribe(): Promise<void> {
    const conn = dedicatedConnection(redis)
    current = conn
    // Messages parsed in the same read as the confirmation come before the promise resolves.
    let early: string[] | null = []
    const deliver = (event: string | null) => {
      if (event === null) return
      if (early) early.push(event)
      else emit(event)
    }
    conn.on('error', () => {}) // the outcome of connect() and subscribe() says it
    if (kind === 'subscribe') {
      conn.on('message', (channel: string, payload: string) =>
        deliver(messageEvent(channel, payload, undefined)),
      )
    } else {
      conn.on('pmessage', (pattern: string, channel: string, payload: string) =>
        deliver(messageEvent(channel, payload, pattern)),
      )
    }
    conn.once('end', () => {
      if (current === conn) replaceLater()
    })
    try {
      await conn.connect()
      await conn[kind](...names)
      if (closed) throw new Error('Connection is closed.')
    } catch (error) {
      if (current === conn) current = undefined // replaced on this rejection, not on 'end'
      conn.disconnect()
      if (error instanceof ExecutionProblem) throw error
      const { status, error: message } = classify(error)
      throw new ExecutionProblem(status, message)
    }
    const seen = new Set<string>()
    for (const name of names) emit(countEvent(kind, name, seen.add(name).size))
    const buffered = early
    early = null
    for (const event of buffered) emit(event)
  }

  const ready = subscribe().then(() => {
    established = true
  })
  return {
    ready,
    ping() {
      if (current?.status === 'ready') current.ping().catch(() => {})
    },
    close() {
      closed = true
      clearTimeout(timer)
      current?.disconnect()
    },
  }
}
