/**
 * The store conformance suite (`hono-redis-session/testing`): the tests every store of this
 * package passes, for a store of your own to run under vitest. The only module of the package
 * that imports `vitest` (an optional peer dependency).
 */
import { afterAll, beforeAll, describe } from 'vitest'
import type { Store } from '../store/types.js'
import { actorCases } from './actors.js'
import { suiteContext, type StoreCapabilities } from './context.js'
import { fieldCases } from './fields.js'
import { itemCases } from './items.js'
import { sessionCases } from './lifecycle.js'
import { rateLimitCases } from './rate-limits.js'
import { refusalCases } from './refusals.js'
import { rotationCases } from './rotation.js'
import { userIndexCases } from './users.js'

export type { StoreCapabilities }

/** What a {@link StoreFactory} gives the suite. */
export interface StoreUnderTest {
  /** The store every case of the suite uses (cases use distinct session and user ids). */
  store: Store
  /** Runs once after the last case: close clients, stop servers. */
  cleanup?: () => Promise<void>
}

/** Makes the store under test; called once, before the first case. */
export type StoreFactory = () => StoreUnderTest | Promise<StoreUnderTest>

/**
 * Registers the store conformance suite under vitest: a `describe` named
 * `store conformance: <name>` with one case per rule of the {@link Store} contract (expiry
 * against the caller's clock, field patches that survive concurrent commits, no resurrection,
 * atomic increments, size limits, the per-user index, rotation aliases, counters with limits,
 * claims, per-user values, acting sessions, rate limits). Call it at the top level of a test file. The cases share one store and use fresh
 * session and user ids, except a few fixed odd user ids (`'a}b'`, `'{x}'`, ...): a store that
 * keeps data between runs (a real database) needs its own key prefix or an empty database per
 * run.
 *
 * @param name - names the suite in the report.
 * @param factory - makes the store, once, before the first case; its `cleanup` runs after the
 * last case.
 * @param capabilities - the parts of the contract the store has (each default true). A part
 * left out is not tested; instead the suite checks that its calls reject, so leave out only
 * what the store refuses, and keep the matching features off in the app (`rotateEvery: 0`
 * without rotation; no `maxSessionsPerUser`, `listSessions`, `destroyAll`, `destroyOthers`,
 * `updateUserRoles` or `revokeMethod` without the user index; no TOTP, `reserve`, `countEvent`,
 * `claimOnce` or user secrets without items; no `rateLimit`/`rateLimiter` without rate limits).
 *
 * @example
 * ```ts
 * // my-store.test.ts, run with `npx vitest run`
 * import { memoryStore } from 'hono-redis-session/memory'
 * import { testStore } from 'hono-redis-session/testing'
 * import { myStore } from '../src/my-store.js'
 *
 * testStore('memory store', () => ({ store: memoryStore() }))
 *
 * testStore('my store', async () => {
 *   const store = await myStore({ url: process.env.MY_DB_URL })
 *   return { store, cleanup: () => store.close() }
 * })
 *
 * // a store without periodic rotation (apps use it with `rotateEvery: 0`)
 * testStore('my store, no rotation', async () => ({ store: await myStore() }), { rotation: false })
 * ```
 */
export function testStore(
  name: string,
  factory: StoreFactory,
  capabilities: StoreCapabilities = {},
): void {
  describe(`store conformance: ${name}`, () => {
    let made: StoreUnderTest | undefined
    beforeAll(async () => {
      made = await factory()
    })
    afterAll(async () => {
      await made?.cleanup?.()
    })
    const suite = suiteContext(() => {
      if (!made) throw new Error('the store factory has not run: call testStore at top level')
      return made.store
    }, capabilities)
    sessionCases(suite)
    fieldCases(suite)
    if (suite.has.userIndex) userIndexCases(suite)
    if (suite.has.rotation) rotationCases(suite)
    if (suite.has.items) itemCases(suite)
    if (suite.has.rateLimits) rateLimitCases(suite)
    actorCases(suite)
    refusalCases(suite)
  })
}
