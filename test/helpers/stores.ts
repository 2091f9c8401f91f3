import { afterAll, beforeAll, describe } from 'vitest'
import { ioredisStore, type IoredisStore } from '../../src/store/ioredis.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { startRedis, stopAll } from './redis.js'

/**
 * Runs a suite once per store: the memory store and the ioredis store on a real redis-server
 * started for the file. `store()` gives a fresh memory store per call, and the one Redis store
 * (tests use distinct ids and users, so sharing it is safe).
 */
export function forEachStore(suite: (store: () => Store) => void): void {
  describe('memory store', () => suite(() => memoryStore()))
  describe('ioredis store', () => {
    let redis: IoredisStore
    beforeAll(async () => {
      const server = await startRedis()
      redis = ioredisStore({ url: server.url })
    })
    afterAll(async () => {
      await redis.close()
      await stopAll()
    })
    suite(() => redis)
  })
}
