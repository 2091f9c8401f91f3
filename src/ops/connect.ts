import type { Cluster, Redis } from 'ioredis'
import { redisOptionsFrom, redisSettingsFromEnv, withFlags } from '../config/redis.js'
import {
  connectRedis,
  describeRedisTarget,
  type RedisConnectOptions,
} from '../store/ioredis-connect.js'
import { settleWithin } from '../util/timeout.js'
import { CliError, UsageError } from './output.js'

/** The connection flags every Redis command takes. */
export interface ConnectionFlags {
  redisUrl?: string
  sentinels?: string
  sentinelName?: string
  cluster?: string
  timeoutMs?: string
  prefix: string
}

/** Flags first, then the environment (REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES, ...). */
export function connectionOptions(flags: ConnectionFlags): RedisConnectOptions {
  const timeout = flags.timeoutMs === undefined ? undefined : Number(flags.timeoutMs)
  if (timeout !== undefined && !(timeout > 0))
    throw new UsageError('--timeout-ms must be a positive number')
  const given = [flags.redisUrl, flags.sentinels, flags.cluster].filter((v) => v !== undefined)
  if (given.length > 1) throw new UsageError('use one of --redis-url, --sentinels, --cluster')
  const flag = (value: string | undefined, name: string) =>
    value === undefined ? undefined : { value, name }
  const settings = withFlags(redisSettingsFromEnv(process.env), {
    url: flag(flags.redisUrl, '--redis-url'),
    sentinels: flag(flags.sentinels, '--sentinels'),
    cluster: flag(flags.cluster, '--cluster'),
    sentinelName: flag(flags.sentinelName, '--sentinel-name'),
  })
  let options: RedisConnectOptions | null
  try {
    options = redisOptionsFrom(settings)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (!options)
    throw new UsageError(
      'no Redis given: use --redis-url (or set REDIS_URL), --sentinels or --cluster',
    )
  return {
    ...options,
    commandTimeoutMs: timeout ?? options.commandTimeoutMs ?? 2000,
    logger: () => {},
  }
}

/** Connects and checks the server answers; a clear error (exit 1) when it does not. */
export async function connect(
  flags: ConnectionFlags,
): Promise<{ client: Redis | Cluster; target: string }> {
  const options = connectionOptions(flags)
  const target = describeRedisTarget(options)
  const client = connectRedis(options)
  // ioredis rejects the command with "max retries"; the connection error says what happened.
  let cause: string | undefined
  client.on('error', (err: Error) => (cause ??= err.message))
  try {
    await client.ping()
  } catch (err) {
    client.disconnect()
    const reason = cause ?? String((err as Error)?.message ?? err).split('\n')[0]
    throw new CliError(`cannot reach Redis at ${target} (${reason})`)
  }
  return { client, target }
}

/**
 * A server's `host:port` for labels and cursors. On a Sentinel client `options.host/port` are
 * ioredis's defaults (localhost:6379), not the master it found: the socket knows where it went.
 */
export function nodeAddress(node: Redis): string {
  if (node.options.sentinels?.length) {
    const socket = (node as unknown as { stream?: { remoteAddress?: string; remotePort?: number } })
      .stream
    if (socket?.remoteAddress && socket.remotePort) {
      const host = socket.remoteAddress.replace(/^::ffff:/, '')
      return host.includes(':') ? `[${host}]:${socket.remotePort}` : `${host}:${socket.remotePort}`
    }
  }
  return `${node.options.host}:${node.options.port}`
}

/** The servers to SCAN: every master of a Cluster, or the one server. */
export function scanNodes(client: Redis | Cluster): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
}

/** Quits politely, then drops the connection whatever happens (so the process can exit). */
export async function disconnect(client: Redis | Cluster): Promise<void> {
  await settleWithin(client.quit(), 1000, undefined) // a failure: already gone
  client.disconnect()
}
