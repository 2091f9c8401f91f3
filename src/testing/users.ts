import { beforeAll, expect, it } from 'vitest'
import type { SessionKey, Store } from '../store/types.js'
import type { SuiteContext } from './context.js'

/**
 * The per-user index: listing, extension and destroy, the session limit, log out everywhere,
 * role and method changes.
 */
export function userIndexCases(suite: SuiteContext): void {
  const { IDLE, newId, uniqueUser, sessionAt, noExtend, loadLive, create } = suite
  let store: Store
  beforeAll(() => {
    store = suite.store()
  })

  it("lists a user's live sessions, soonest expiry first, never an expired one", async () => {
    const now = Date.now()
    const uid = uniqueUser('list')
    const a = { id: newId(), uid }
    const b = { id: newId(), uid }
    const c = { id: newId(), uid }
    await store.create(a, sessionAt(now, { uid, expiresAt: now + 3000, client: 'A' }), { now })
    await store.create(
      b,
      sessionAt(now, {
        uid,
        expiresAt: now + 2000,
        client: 'B',
        authTime: now,
        amr: ['pwd', 'otp'],
      }),
      { now },
    )
    await store.create(c, sessionAt(now, { uid, expiresAt: now + 1000, client: 'C' }), { now })
    const list = await store.listUser(uid, now + 500)
    expect(list.map((s) => s.client)).toEqual(['C', 'B', 'A'])
    expect(list[1]).toMatchObject({
      id: b.id,
      createdAt: now,
      expiresAt: now + 2000,
      authTime: now,
      amr: ['pwd', 'otp'],
    })
    expect((await store.listUser(uid, now + 1500)).map((s) => s.id)).toEqual([b.id, a.id])
    expect(await store.listUser(uid, now + 3000)).toEqual([])
    expect(await store.listUser(uniqueUser('none'), now)).toEqual([])
  })

  it('index follows extension and destroy', async () => {
    const now = Date.now()
    const uid = uniqueUser('idx')
    const a = { id: newId(), uid }
    const b = { id: newId(), uid }
    await store.create(a, sessionAt(now, { uid, expiresAt: now + 1000 }), { now })
    await store.create(b, sessionAt(now, { uid, expiresAt: now + 2000 }), { now })
    await loadLive(a, { now: now + 500, extendIfBefore: now + 5000, extendTo: now + 5000 })
    expect((await store.listUser(uid, now + 1500)).map((s) => [s.id, s.expiresAt])).toEqual([
      [b.id, now + 2000],
      [a.id, now + 5000],
    ])
    await store.destroy(b)
    expect((await store.listUser(uid, now)).map((s) => s.id)).toEqual([a.id])
  })

  it('evicts the soonest-expiring sessions beyond maxSessionsPerUser', async () => {
    const now = Date.now()
    const uid = uniqueUser('max')
    const keys = [0, 1, 2, 3].map(() => ({ id: newId(), uid }))
    const evicted: string[] = []
    for (const [i, key] of keys.entries()) {
      const r = await store.create(key, sessionAt(now + i, { uid, expiresAt: now + IDLE + i }), {
        now: now + i,
        maxSessionsPerUser: 2,
      })
      evicted.push(...r.evicted)
    }
    expect(evicted).toEqual([keys[0]!.id, keys[1]!.id])
    expect((await store.listUser(uid, now + 10)).map((s) => s.id)).toEqual([
      keys[2]!.id,
      keys[3]!.id,
    ])
    expect(await loadLive(keys[0]!, noExtend(now + 10))).toBeNull()
    // the session being created survives even when it expires soonest
    const short = { id: newId(), uid }
    const r = await store.create(short, sessionAt(now, { uid, expiresAt: now + 1000 }), {
      now,
      maxSessionsPerUser: 2,
    })
    expect(r.evicted).toEqual([keys[2]!.id])
    expect(await loadLive(short, noExtend(now + 10))).not.toBeNull()
  })

  it('destroyUser removes every session of the user and counts the live ones', async () => {
    const now = Date.now()
    const uid = uniqueUser('all')
    const other = uniqueUser('other')
    const keys = [0, 1, 2].map(() => ({ id: newId(), uid }))
    for (const key of keys) await create(key, now)
    const keep = { id: newId(), uid: other }
    await create(keep, now)
    expect(await store.destroyUser(uid, now)).toBe(3)
    for (const key of keys) expect(await loadLive(key, noExtend(now))).toBeNull()
    expect(await store.listUser(uid, now)).toEqual([])
    expect(await loadLive(keep, noExtend(now))).not.toBeNull()
    expect(await store.destroyUser(uid, now)).toBe(0)
  })

  it('keeps user ids with hash-tag and separator characters apart', async () => {
    const now = Date.now()
    const odd = ['a}b', '{x}', 'a:b', 'ü ser', 'a%7Db']
    const keys = odd.map((uid) => ({ id: newId(), uid }))
    for (const key of keys) await create(key, now)
    for (const key of keys) {
      expect((await store.listUser(key.uid, now)).map((s) => s.id)).toEqual([key.id])
    }
  })

  it('updateUser sets roles on every live session of the user in one call', async () => {
    const now = Date.now()
    const uid = uniqueUser('roles')
    const keys = [0, 1, 2].map(() => ({ id: newId(), uid }))
    for (const key of keys) await create(key, now, {}, { roles: ['user'] })
    const other = { id: newId(), uid: uniqueUser('x') }
    await create(other, now, {}, { roles: ['user'] })
    expect(await store.updateUser(uid, { roles: ['user', 'admin'] }, now)).toBe(3)
    for (const key of keys)
      expect((await loadLive(key, noExtend(now)))?.session.meta.roles).toEqual(['user', 'admin'])
    expect((await loadLive(other, noExtend(now)))?.session.meta.roles).toEqual(['user'])
    expect(await store.updateUser(uniqueUser('none'), { roles: [] }, now)).toBe(0)
  })

  it('updateUser revokes methods on every live session but the one left out', async () => {
    const now = Date.now()
    const uid = uniqueUser('revoke')
    const keys = [0, 1, 2].map(() => ({ id: newId(), uid }))
    for (const key of keys) await create(key, now, {}, { amr: ['pwd', 'otp'] })
    const change = { revokeMethods: ['otp'], except: keys[0]!.id }
    expect(await store.updateUser(uid, change, now, { id: keys[0]!.id, now })).toBe(2)
    expect(await store.updateUser(uid, change, now)).toBe(2) // twice: still one entry
    const meta = async (k: SessionKey) => (await loadLive(k, noExtend(now)))!.session.meta
    expect((await meta(keys[0]!)).revokedMethods).toBeUndefined()
    expect((await meta(keys[1]!)).revokedMethods).toEqual(['otp'])
    expect((await meta(keys[1]!)).amr).toEqual(['pwd', 'otp'])
    const listed = await store.listUser(uid, now)
    expect(listed.find((s) => s.id === keys[2]!.id)?.revokedMethods).toEqual(['otp'])
  })
}
