/**
 * Connections to the replicas of a Sentinel deployment, for `GATEWAY_READ_FROM=replicas`: one
 * per healthy replica the sentinels list at start, each an ioredis Sentinel client with
 * `role: 'slave'` (so it finds a replica again after a failover or a restart).
 */
import type { Redis } from 'ioredis'
import { connectRedis, type RedisConnectOptions } from '../store/ioredis-connect.js'
import { DEFAULT_SENTINEL_NAME } from '../store/redis-url.js'

/** Flags of a replica the sentinels would not hand out (as ioredis filters them). */
const UNHEALTHY = /disconnected|s_down|o_down/

/** The number of healthy replicas the first answering sentinel lists; undefined if none answers. */
export async function countReplicas(target: RedisConnectOptions): Promise<number | undefined> {
  for (const { host, port } of target.sentinels ?? []) {
    const sentinel = connectRedis({
      url: `redis://${host.includes(':') ? `[${host}]` : host}:${port}`,
      ...(target.sentinelPassword !== undefined ? { password: target.sentinelPassword } : {}),
      ...(target.tls ? { tls: true } : {}),
      ...(target.connectTimeoutMs !== undefined
        ? { connectTimeoutMs: target.connectTimeoutMs }
        : {}),
      commandTimeoutMs: target.commandTimeoutMs ?? 1000,
      autoPipelining: false,
      logger: () => {}, // a sentinel that is down: the next one is asked
    })
    try {
      const list = (await sentinel.call(
        'SENTINEL',
        'replicas',
        target.name ?? DEFAULT_SENTINEL_NAME,
      )) as string[][]
      return list.filter((fields) => !UNHEALTHY.test(fields[fields.indexOf('flags') + 1] ?? ''))
        .length
    } catch {
      // down, or it does not know the master: ask the next one
    } finally {
      sentinel.disconnect()
    }
  }
  return undefined
}

/**
 * One client per healthy replica (at least one: with none listed yet, it waits for one).
 *
 * @throws Error when the target is not a Sentinel deployment
 */
export async function connectReplicas(target: RedisConnectOptions): Promise<Redis[]> {
  if (!target.sentinels?.length)
    throw new Error('reading from replicas needs a Sentinel deployment (REDIS_SENTINELS)')
  const count = Math.max(1, (await countReplicas(target)) ?? 1)
  return Array.from(
    { length: count },
    (_, replica) => connectRedis({ ...target, replica }) as Redis,
  )
}
