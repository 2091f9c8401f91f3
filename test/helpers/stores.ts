import { ioredisStore } from '../../src/store/ioredis.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { acrossStores, type StoreSetup } from './across-stores.js'
import { startRedis } from './redis.js'

export { acrossStores, type StoreSetup }

/** The in-process store; `store()` is a new one per call. */
export const MEMORY: StoreSetup = {
  name: 'memory store',
  setup: async () => ({ store: memoryStore(), fresh: () => memoryStore() }),
}

/** The ioredis store on a real redis-server started for the file (tests use distinct ids and users). */
export const IOREDIS: StoreSetup = {
  name: 'ioredis store',
  async setup() {
    const server = await startRedis()
    const store = ioredisStore({ url: server.url, logger: () => {} })
    return { store, cleanup: () => store.close() }
  },
}

/** The memory store and the ioredis store on a real Redis. */
export function forEachStore(suite: (store: () => Store) => void): void {
  acrossStores([MEMORY, IOREDIS], suite)
}
