import { describeRedisTarget } from '../../src/store/ioredis-connect.js'
import { ioredisStore } from '../../src/store/ioredis.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { upstashStore } from '../../src/store/upstash.js'
import { storeChoiceFromEnv, type StoreChoice } from '../config.js'

/** Opens the store the settings chose (see `storeChoiceFromEnv` in `../config.ts`), with a name for the log. */
export function openStore(choice: StoreChoice): { store: Store; name: string } {
  switch (choice.kind) {
    case 'upstash':
      return {
        store: upstashStore({ url: choice.url, token: choice.token }),
        name: `upstash ${new URL(choice.url).origin}`,
      }
    case 'redis':
      return {
        store: ioredisStore({ ...choice.options, durability: choice.durability }),
        name: describeRedisTarget(choice.options),
      }
    case 'memory':
      return { store: memoryStore(), name: 'memory' }
  }
}

/**
 * Picks and opens the demo's store from the environment (Node): `UPSTASH_REDIS_REST_URL` +
 * `UPSTASH_REDIS_REST_TOKEN`, else the Redis variables, else memory. Throws a clear error
 * naming the variable when a value is malformed.
 */
export function storeFromEnv(env: Record<string, string | undefined>): {
  store: Store
  name: string
} {
  return openStore(storeChoiceFromEnv(env))
}
