import { beforeAll, expect, it } from 'vitest'
import type { Store } from '../store/types.js'
import type { SuiteContext } from './context.js'

/**
 * The acting session: every per-user operation given an actor runs only while that session is
 * live (index and items alike), checked in the same atomic step; a rotation alias acts for its
 * target inside the grace window.
 */
export function actorCases(suite: SuiteContext): void {
  const { IDLE, newId, uniqueUser, sessionAt, noExtend, loadLive, create } = suite
  let store: Store
  beforeAll(() => {
    store = suite.store()
  })

  if (suite.has.userIndex && suite.has.items)
    it('a dead session may not act for its user: every per-user operation refuses it', async () => {
      const now = Date.now()
      const uid = uniqueUser('dead')
      const alive = { id: newId(), uid }
      const victim = { id: newId(), uid }
      const gone = { id: newId(), uid }
      const expired = { id: newId(), uid }
      for (const key of [alive, victim, gone]) await create(key, now)
      await store.create(expired, sessionAt(now - IDLE - 1, { uid }), { now: now - IDLE - 1 })
      await store.setUserValue(uid, 'v', 'kept')
      await store.destroy(gone)
      const never = { id: newId(), uid }
      for (const dead of [gone, expired, never]) {
        const actor = { id: dead.id, now }
        const refused = (p: Promise<unknown>) =>
          expect(p).rejects.toMatchObject({ code: 'ERR_SESSION_REQUIRED' })
        await refused(store.listUser(uid, now, actor))
        await refused(store.destroy(victim, actor))
        await refused(store.destroyUser(uid, now, { actor }))
        await refused(store.updateUser(uid, { roles: ['admin'] }, now, actor))
        await refused(store.hit(uid, 'h', { windowMs: 60_000, actor }))
        await refused(store.claim(uid, 'c', 60_000, actor))
        await refused(store.getUserValue(uid, 'v', actor))
        await refused(store.setUserValue(uid, 'v', 'stolen', actor))
      }
      // nothing changed
      expect((await store.listUser(uid, now)).map((s) => s.id).sort()).toEqual(
        [alive.id, victim.id].sort(),
      )
      expect((await loadLive(victim, noExtend(now)))?.session.meta.roles).toBeUndefined()
      expect((await store.hit(uid, 'h', { windowMs: 60_000, by: 0 })).count).toBe(0)
      expect(await store.claim(uid, 'c', 60_000)).toBe(true)
      expect(await store.getUserValue(uid, 'v')).toBe('kept')
      // a live session acts
      const actor = { id: alive.id, now }
      expect((await store.listUser(uid, now, actor)).map((s) => s.id).sort()).toEqual(
        [alive.id, victim.id].sort(),
      )
      expect(await store.getUserValue(uid, 'v', actor)).toBe('kept')
      expect((await store.hit(uid, 'h', { windowMs: 60_000, actor })).count).toBe(1)
      await store.destroy(victim, actor)
      expect(await store.destroyUser(uid, now, { actor, except: alive.id })).toBe(0)
      expect((await store.listUser(uid, now)).map((s) => s.id)).toEqual([alive.id])
    })

  if (suite.has.userIndex && suite.has.rotation)
    it('a rotation alias acts for its target inside the grace window, not after', async () => {
      const now = Date.now()
      const uid = uniqueUser('alias')
      const from = { id: newId(), uid }
      const to = { id: newId(), uid }
      await create(from, now)
      const rotated = await store.rotate(
        from,
        to,
        { set: {}, del: [] },
        {
          ...noExtend(now),
          graceMs: 1000,
        },
      )
      expect(rotated).not.toBeNull()
      expect(
        (await store.listUser(uid, now + 10, { id: from.id, now: now + 10 })).map((s) => s.id),
      ).toEqual([to.id])
      await expect(
        store.listUser(uid, now + 2000, { id: from.id, now: now + 2000 }),
      ).rejects.toMatchObject({ code: 'ERR_SESSION_REQUIRED' })
      await store.destroy(to)
      await expect(
        store.listUser(uid, now + 10, { id: from.id, now: now + 10 }),
      ).rejects.toMatchObject({ code: 'ERR_SESSION_REQUIRED' })
    })
}
