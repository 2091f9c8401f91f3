import { beforeAll, expect, it } from 'vitest'
import type { Store } from '../store/types.js'
import type { SuiteContext } from './context.js'

/** Periodic rotation: the server-side move and its alias for the grace window. */
export function rotationCases(suite: SuiteContext): void {
  const { IDLE, newId, uniqueUser, noExtend, loadLive, create } = suite
  let store: Store
  beforeAll(() => {
    store = suite.store()
  })

  it('rotate copies the entry server-side, applies the patch and leaves an alias', async () => {
    const now = Date.now()
    const uid = uniqueUser('rot')
    const from = { id: newId(), uid }
    const to = { id: newId(), uid }
    await create(from, now, { a: '1', b: '2' })
    // a write that lands after the rotating request read the session is kept
    await store.commit(from, { set: { late: '"x"' }, del: [] }, noExtend(now + 5))
    const t = now + 10
    const res = await store.rotate(
      from,
      to,
      { set: { c: '3' }, del: ['b'] },
      { ...noExtend(t), graceMs: 30_000 },
    )
    expect(res).toEqual({ expiresAt: now + IDLE, extended: false })
    const moved = await loadLive(to, noExtend(t + 1))
    expect(moved?.session.fields).toEqual({ a: '1', late: '"x"', c: '3' })
    expect(moved?.session.meta.rotatedAt).toBe(t)
    expect(await store.load(from, noExtend(t + 1))).toEqual({ movedTo: to.id })
    expect(await store.commit(from, { set: { d: '4' }, del: [] }, noExtend(t + 1))).toEqual({
      movedTo: to.id,
    })
    if (suite.has.userIndex) {
      expect((await store.listUser(uid, t + 1)).map((x) => x.id)).toEqual([to.id])
    }
    // a second rotation of the same key loses: nothing written
    const other = { id: newId(), uid }
    expect(
      await store.rotate(
        from,
        other,
        { set: {}, del: [] },
        { ...noExtend(t + 2), graceMs: 30_000 },
      ),
    ).toEqual({ movedTo: to.id })
    expect(await store.load(other, noExtend(t + 2))).toBeNull()
    // the alias ends after the grace window
    expect(await store.load(from, noExtend(t + 30_000))).toBeNull()
    expect(
      await store.rotate(
        { id: newId(), uid },
        { id: newId(), uid },
        { set: {}, del: [] },
        { ...noExtend(t), graceMs: 1 },
      ),
    ).toBeNull()
  })

  it('rotate extends when due and destroy through an alias ends the session', async () => {
    const now = Date.now()
    const uid = uniqueUser('rot2')
    const from = { id: newId(), uid }
    const to = { id: newId(), uid }
    await create(from, now)
    const t = now + IDLE - 1000
    const res = await store.rotate(
      from,
      to,
      { set: {}, del: [] },
      { now: t, extendIfBefore: t + IDLE, extendTo: t + IDLE, graceMs: 30_000 },
    )
    expect(res).toEqual({ expiresAt: t + IDLE, extended: true })
    await store.destroy(from)
    expect(await store.load(to, noExtend(t + 1))).toBeNull()
    if (suite.has.userIndex) expect(await store.listUser(uid, t + 1)).toEqual([])
  })
}
