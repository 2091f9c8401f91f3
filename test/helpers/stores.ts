import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe } from 'vitest'
import { ioredisStore } from '../../src/store/ioredis.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { startRedis } from './redis.js'

/**
 * A store a suite can run on: how to set it up once for the suite, and how to tear it down.
 * `fresh` (memory only) gives a new, empty store per call, for tests that count or fill it.
 */
export interface StoreSetup {
  name: string
  setup(): Promise<{ store: Store; cleanup?: () => Promise<void>; fresh?: () => Store }>
}

/**
 * The one way the project's tests run a suite over several stores (the conformance suite in
 * src/testing has its own, for any store): once per setup, in a describe named after
 * it, with the store set up before the suite and torn down after it. `store()` gives the
 * suite's store (a fresh one per call where the setup has `fresh`).
 */
export function acrossStores(
  setups: readonly StoreSetup[],
  suite: (store: () => Store, name: string) => void,
): void {
  for (const setup of setups) {
    describe(setup.name, () => {
      let made: Awaited<ReturnType<StoreSetup['setup']>>
      beforeAll(async () => {
        made = await setup.setup()
      })
      afterAll(async () => {
        await made?.cleanup?.()
      })
      suite(() => (made.fresh ? made.fresh() : made.store), setup.name)
    })
  }
}

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
    // the server goes with the suite: vitest ends its fork processes without running their
    // exit hooks, so a server left to the helper's exit hook outlives the test run
    return {
      store,
      cleanup: async () => {
        await store.close()
        await server.stop()
        await rm(server.dir, { recursive: true, force: true })
      },
    }
  },
}

/** The memory store and the ioredis store on a real Redis. */
export function forEachStore(suite: (store: () => Store) => void): void {
  acrossStores([MEMORY, IOREDIS], suite)
}
