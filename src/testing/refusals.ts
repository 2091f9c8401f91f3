import { beforeAll, expect, it } from 'vitest'
import { rateLimiter } from '../rate-limit/limiter.js'
import type { Store } from '../store/types.js'
import type { SuiteContext } from './context.js'

/**
 * A part a store leaves out must fail loudly: its calls reject and change nothing, so an app
 * that turns on a feature the store lacks gets errors instead of a limit or a logout that
 * silently does not happen.
 */
export function refusalCases(suite: SuiteContext): void {
  const { newId, uniqueUser, sessionAt, noExtend, loadLive, create } = suite
  let store: Store
  beforeAll(() => {
    store = suite.store()
  })

  if (!suite.has.userIndex)
    it('without a user index: listUser, destroyUser, updateUser and a session limit reject', async () => {
      const now = Date.now()
      const uid = uniqueUser('no-index')
      const key = { id: newId(), uid }
      await create(key, now)
      await expect(store.listUser(uid, now)).rejects.toThrow()
      await expect(store.destroyUser(uid, now)).rejects.toThrow()
      await expect(store.updateUser(uid, { roles: ['admin'] }, now)).rejects.toThrow()
      const limited = { id: newId(), uid }
      await expect(
        store.create(limited, sessionAt(now, { uid }), { now, maxSessionsPerUser: 1 }),
      ).rejects.toThrow()
      expect((await loadLive(key, noExtend(now)))?.session.meta.roles).toBeUndefined()
    })

  if (!suite.has.items)
    it('without per-user items: hit, claim, getUserValue and setUserValue reject', async () => {
      const uid = uniqueUser('no-items')
      await expect(store.hit(uid, 'tries', { windowMs: 60_000, limit: 5 })).rejects.toThrow()
      await expect(store.claim(uid, 'otp:123456', 60_000)).rejects.toThrow()
      await expect(store.getUserValue(uid, 'totp')).rejects.toThrow()
      await expect(store.setUserValue(uid, 'totp', 'sealed-secret')).rejects.toThrow()
    })

  if (!suite.has.rotation)
    it('without rotation: rotate rejects and the session stays where it is', async () => {
      const now = Date.now()
      const uid = uniqueUser('no-rotation')
      const from = { id: newId(), uid }
      const to = { id: newId(), uid }
      await create(from, now, { a: '1' })
      await expect(
        store.rotate(from, to, { set: { b: '2' }, del: [] }, { ...noExtend(now), graceMs: 1000 }),
      ).rejects.toThrow()
      expect((await loadLive(from, noExtend(now)))?.session.fields).toEqual({ a: '1' })
      expect(await store.load(to, noExtend(now))).toBeNull()
    })

  if (!suite.has.rateLimits)
    it('without rate limits: rateHit is absent or rejects', async () => {
      const o = { windowMs: 60_000, limit: 5, now: Date.now() }
      // absent: the limiter refuses the store when the app sets it up
      if (!store.rateHit)
        expect(() => rateLimiter({ store, limit: 5, windowMs: 60_000 })).toThrow(/rateHit/)
      else await expect(store.rateHit('suite:no-rate', o)).rejects.toThrow()
    })
}
