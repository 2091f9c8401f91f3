import { afterAll, beforeAll, describe } from 'vitest'
import type { Store } from '../../src/store/types.js'

/**
 * A store a suite can run on: how to set it up once for the suite, and how to tear it down.
 * `fresh` (memory only) gives a new, empty store per call, for tests that count or fill it.
 */
export interface StoreSetup {
  name: string
  setup(): Promise<{ store: Store; cleanup?: () => Promise<void>; fresh?: () => Store }>
}

/**
 * The one way to run a suite over several stores: once per setup, in a describe named after
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
