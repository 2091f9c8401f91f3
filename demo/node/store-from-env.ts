import { redisOptionsFromEnv } from '../../src/config/redis.js'
import { describeRedisTarget } from '../../src/store/ioredis-connect.js'
import { ioredisStore } from '../../src/store/ioredis.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { upstashStore } from '../../src/store/upstash.js'

/**
 * Picks the demo's store from the environment (Node):
 * - `UPSTASH_REDIS_REST_URL` + `UPSTASH_REDIS_REST_TOKEN`: the Upstash store (Upstash or the
 *   project's gateway), the same variables as the Worker;
 * - else `REDIS_URL`, or `REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`, or `REDIS_CLUSTER_NODES`
 *   (plus `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_TLS`, `REDIS_TIMEOUT_MS`): the ioredis
 *   store, with `REDIS_WAIT_REPLICAS` + `REDIS_WAIT_TIMEOUT_MS` for WAIT on login and logout;
 * - else the in-memory store.
 * Throws a clear error naming the variable when a value is malformed.
 */
export function storeFromEnv(env: Record<string, string | undefined>): {
  store: Store
  name: string
} {
  const url = env.UPSTASH_REDIS_REST_URL
  const token = env.UPSTASH_REDIS_REST_TOKEN
  if (url || token) {
    if (!url || !token)
      throw new Error('Set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN')
    return { store: upstashStore({ url, token }), name: `upstash ${new URL(url).origin}` }
  }
  const redis = redisOptionsFromEnv(env)
  if (redis) {
    const replicas = Number(env.REDIS_WAIT_REPLICAS ?? 0)
    const timeoutMs = Number(env.REDIS_WAIT_TIMEOUT_MS ?? 500)
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new Error('REDIS_WAIT_REPLICAS must be a whole number')
    if (!(timeoutMs > 0)) throw new Error('REDIS_WAIT_TIMEOUT_MS must be positive milliseconds')
    const durability = replicas > 0 ? { replicas, timeoutMs } : undefined
    return { store: ioredisStore({ ...redis, durability }), name: describeRedisTarget(redis) }
  }
  return { store: memoryStore(), name: 'memory' }
}
