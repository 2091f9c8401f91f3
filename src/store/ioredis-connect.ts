/**
 * Builds an ioredis client (standalone, Sentinel or Cluster) whose commands are bounded in time.
 *
 * Node-only. Used by the ioredis session store, the gateway, the CLI and the demo app.
 *
 * Behaviour, whatever the topology:
 * - While Redis is unreachable, every command rejects within `commandTimeoutMs` (usually at
 *   once), instead of waiting in a queue. Nothing is queued for later: a command the caller saw
 *   fail is never executed behind its back after the connection comes back.
 * - The client reconnects by itself (backoff capped at 1 s) and is usable again without being
 *   re-created. Sentinel clients follow a failover; Cluster clients follow slot moves.
 * - Connection errors never surface as an unhandled 'error' event; they are logged once per
 *   change of state, not once per retry.
 */
import type { ClusterOptions, Command, RedisOptions } from 'ioredis'
import { Cluster, Redis } from './ioredis-package.js'
import { DEFAULT_SENTINEL_NAME, urlOptions } from './redis-url.js'
import { BatchingRedis } from './write-batching.js'

/** Where and how to connect. Set exactly one of `url`, `sentinels` or `cluster`. */
export interface RedisConnectOptions {
  /** redis:// or rediss:// URL, may carry ACL user and password (redis://user:pass@host:port/db). */
  url?: string
  /** Sentinel: list of sentinels plus the master name. */
  sentinels?: { host: string; port: number }[]
  /** Sentinel master name. Default `mymaster`. */
  name?: string
  /** Password of the sentinels themselves (not of the master). */
  sentinelPassword?: string
  /**
   * Sentinel only: connect to a replica instead of the master, the `replica`-th (modulo their
   * number) of the healthy replicas the sentinels list, by address; picked again on reconnect.
   */
  replica?: number
  /** Cluster: startup nodes. */
  cluster?: { host: string; port: number }[]
  /** ACL user; overrides the URL's. */
  username?: string
  /** Password; overrides the URL's. */
  password?: string
  /** Use TLS (implied by a rediss:// URL). */
  tls?: boolean
  /** Per-command timeout, milliseconds. Default 500. */
  commandTimeoutMs?: number
  /** Connect timeout, milliseconds. Default 1000. */
  connectTimeoutMs?: number
  /**
   * Send the commands of requests that arrive together in one socket write: each request is
   * still one command, but the server and the client make fewer system calls under load.
   * Default true on a single server and Sentinel, where the client corks its socket for one
   * turn of the event loop ({@link BatchingRedis}); false on Cluster, where true turns on
   * ioredis' `enableAutoPipelining` (which waits for the slot map outside the command timeout).
   */
  autoPipelining?: boolean
  /**
   * Integer replies as decimal strings (ioredis `stringNumbers`), exact beyond 2^53 where
   * numbers are rounded. The gateway needs it; the stores do not use it. Default false.
   */
  stringNumbers?: boolean
  /** Receives one line per connection state change. Default `console.warn`. */
  logger?: (message: string) => void
  /** Prefixes are handled by the stores, not by ioredis. */
  keyPrefix?: never
}

const DEFAULT_COMMAND_TIMEOUT_MS = 500
const DEFAULT_CONNECT_TIMEOUT_MS = 1000

/** Reconnect backoff: 100, 200, 400, 800, then every second (plus jitter so clients spread). */
function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** times, 1000) + Math.floor(Math.random() * 50)
}

/**
 * After a Sentinel failover the old master may answer as a replica until we reconnect:
 * reconnect, and resend the command (ioredis rejects it at once if the link is not up yet).
 */
function reconnectOnReadonly(error: Error): boolean | 1 | 2 {
  return error.message.startsWith('READONLY') ? 2 : false
}

/** Options shared by every connection to a Redis server, whatever the topology. */
function connectionOptions(options: RedisConnectOptions): RedisOptions {
  const commandTimeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
  const connectTimeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  return {
    commandTimeout,
    connectTimeout,
    // A silent peer (frozen host, dropped packets) is declared dead and reconnected, rather
    // than waiting for TCP keepalive, once several command timeouts have gone unanswered.
    socketTimeout: Math.max(4 * commandTimeout, 2000),
    // In-flight commands of a lost connection fail at once: their outcome is unknown, and
    // resending them later could apply a write the caller already reported as failed.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    reconnectOnError: reconnectOnReadonly,
    // RESP2 replies have the same shapes on Redis 6.0 to 7.x and through the Upstash REST API.
    protocol: 2,
    // No CLIENT SETINFO LIB-NAME / LIB-VER on connect: servers before 7.2 refuse both (two
    // wasted commands per connection). ioredis's own Sentinel probes still send them.
    disableClientInfo: true,
    ...(options.stringNumbers ? { stringNumbers: true } : {}),
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.tls ? { tls: {} } : {}),
  }
}

/** Which topology the options describe; throws unless exactly one is set. */
function topology(options: RedisConnectOptions): 'url' | 'sentinels' | 'cluster' {
  const set = (['url', 'sentinels', 'cluster'] as const).filter((k) => {
    const value = options[k]
    return Array.isArray(value) ? value.length > 0 : Boolean(value)
  })
  if (set.length !== 1) {
    throw new Error(
      `Redis options need exactly one of url, sentinels or cluster (got ${set.length ? set.join(', ') : 'none'})`,
    )
  }
  return set[0]!
}

/**
 * Creates a client for a standalone server (`url`), a Sentinel-managed master (`sentinels`)
 * or a Cluster (`cluster`). The client connects at once and reconnects by itself.
 *
 * Commands issued before the first connection is ready wait for it (bounded by the command
 * timeout), so a caller may use the client right away. (Caveat: such a command that timed out
 * while the first connect was still pending is sent once it succeeds; a failed connect attempt
 * drops them.) From then on, while the connection is down, commands reject at once instead of
 * queueing.
 *
 * @throws Error when the options name no topology, several, or a malformed URL.
 */
export function connectRedis(options: RedisConnectOptions): Redis | Cluster {
  const kind = topology(options)
  if (options.replica !== undefined && kind !== 'sentinels')
    throw new Error('Redis option "replica" needs "sentinels": only Sentinel lists the replicas')
  const base = connectionOptions(options)
  const log = logOnce(describeRedisTarget(options), options.logger ?? ((m) => console.warn(m)))
  if (kind === 'cluster') {
    return watch(createCluster(options, base, options.autoPipelining === true), log)
  }
  // ioredis' auto-pipelining stays off: the batching client does the same for less
  const Client = options.autoPipelining === false ? Redis : BatchingRedis
  let client: Redis
  if (kind === 'url') {
    const fromUrl = urlOptions(options.url!)
    client = new Client({ ...fromUrl, ...base, enableOfflineQueue: true })
  } else {
    client = new Client({
      ...base,
      sentinels: options.sentinels!,
      name: options.name ?? DEFAULT_SENTINEL_NAME,
      ...(options.sentinelPassword !== undefined
        ? { sentinelPassword: options.sentinelPassword }
        : {}),
      ...(options.tls ? { enableTLSForSentinelMode: true } : {}),
      sentinelCommandTimeout: base.commandTimeout!,
      sentinelRetryStrategy: reconnectDelay,
      ...(options.replica !== undefined ? replicaRole(options.replica) : {}),
      // No failoverDetector: its sentinel subscriptions have no 'error' listener in ioredis 6.0.0
      // and print one line per retry while sentinels are down. It is not needed either: on
      // failover Sentinel kills the clients of the demoted master (CLIENT KILL TYPE normal), a
      // dead master closes the socket, and a READONLY reply reconnects (see above).
      enableOfflineQueue: true,
    })
  }
  return watch(client, log)
}

/** ioredis Sentinel options for the `index`-th healthy replica, sorted by address. */
function replicaRole(index: number): RedisOptions {
  return {
    role: 'slave',
    preferredSlaves: (replicas) => {
      const sorted = [...replicas].sort((a, b) =>
        `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`),
      )
      return sorted[index % sorted.length] ?? null
    },
  }
}

/** A Cluster client with the same bounds as a single connection. */
function createCluster(
  options: RedisConnectOptions,
  base: RedisOptions,
  enableAutoPipelining: boolean,
): Cluster {
  const { retryStrategy: _perNode, ...redisOptions } = base
  const clusterOptions: ClusterOptions = {
    redisOptions,
    enableOfflineQueue: true,
    enableAutoPipelining,
    scaleReads: 'master',
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // Retries after MOVED/CLUSTERDOWN/lost node stay inside the command timeout (armed below).
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
  }
  const cluster = new Cluster(
    options.cluster!.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  )
  // Cluster queues commands (offline queue, failover retries) before any node connection arms
  // the command timeout; arm it when the command enters the cluster so the bound covers all of it.
  const timeout = base.commandTimeout!
  const send = cluster.sendCommand.bind(cluster)
  cluster.sendCommand = (command: Command, ...rest: unknown[]) => {
    command.setTimeout(timeout)
    return (send as (c: Command, ...r: unknown[]) => unknown)(command, ...rest)
  }
  return cluster
}

/**
 * Installs the 'error' listener (an unhandled 'error' event would crash the process) and turns
 * the offline queue off once the first connection is ready, so later outages fail fast.
 */
function watch<T extends Redis | Cluster>(
  client: T,
  log: (state: 'down' | 'up', detail?: string) => void,
): T {
  client.on('error', (error: Error & { lastNodeError?: Error }) => {
    log('down', errorLabel(error.lastNodeError ?? error))
  })
  client.on('ready', () => log('up'))
  client.once('ready', () => {
    client.options.enableOfflineQueue = false
  })
  return client
}

/** A short label for a connection error: its code (ECONNREFUSED...), else its message. */
function errorLabel(error: Error & { code?: unknown }): string {
  return typeof error.code === 'string' ? error.code : error.message
}

/**
 * Logs only when the connection goes down or comes back, not once per retry or per error
 * (retries during one outage raise a mix of errors, e.g. refused then "All sentinels are
 * unreachable"). The first connection is the normal case and not logged.
 */
function logOnce(
  target: string,
  logger: (message: string) => void,
): (state: 'down' | 'up', detail?: string) => void {
  let last: 'down' | 'up' | undefined
  return (state, detail) => {
    if (state === last) return
    if (state === 'down')
      logger(`[redis] ${target}: unreachable (${detail}); retrying in the background`)
    else if (last === 'down') logger(`[redis] ${target}: connected again`)
    last = state
  }
}

/** A one-line description of the target for logs. Never contains a password. */
export function describeRedisTarget(options: RedisConnectOptions): string {
  const hosts = (list: { host: string; port: number }[]) =>
    list
      .map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`))
      .join(',')
  const tls = options.tls ? ' (tls)' : ''
  if (options.sentinels?.length) {
    const replica = options.replica === undefined ? '' : ` (replica ${options.replica})`
    return `sentinel ${options.name ?? DEFAULT_SENTINEL_NAME}${replica} via ${hosts(options.sentinels)}${tls}`
  }
  if (options.cluster?.length) return `cluster ${hosts(options.cluster)}${tls}`
  if (options.url) {
    try {
      const u = new URL(options.url)
      const user = options.username ?? (u.username ? decodeURIComponent(u.username) : '')
      const secure = u.protocol === 'rediss:' || options.tls ? ' (tls)' : ''
      const who = user ? ` as ${user}` : ''
      return `${u.protocol}//${u.host}${u.pathname.length > 1 ? u.pathname : ''}${who}${secure}`
    } catch {
      return 'redis (invalid URL)'
    }
  }
  return 'redis (no target)'
}
