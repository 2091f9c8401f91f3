import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../src/store/memory.js'
import { testStore } from '../../src/testing/index.js'

testStore('memory', async () => ({ store: memoryStore() }))

describe('memory store bounds', () => {
  const meta = (now: number, expiresAt = now + 60_000) => ({
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    absoluteExpiresAt: now + 120_000,
  })
  const id = (n: number) => String(n).padStart(43, 'A')

  it('evicts the oldest sessions beyond maxSessions', async () => {
    const store = memoryStore({ maxSessions: 3 })
    const now = Date.now()
    for (let i = 0; i < 5; i++)
      await store.create({ id: id(i) }, { fields: {}, meta: meta(now) }, { now })
    const left = []
    for (let i = 0; i < 5; i++)
      left.push((await store.load({ id: id(i) }, { now, extendIfBefore: 0, extendTo: 0 })) !== null)
    expect(left).toEqual([false, false, true, true, true])
  })

  const alive = async (
    store: ReturnType<typeof memoryStore>,
    keys: { id: string }[],
    now: number,
  ) => {
    const out = []
    for (const key of keys)
      out.push((await store.load(key, { now, extendIfBefore: 0, extendTo: 0 })) !== null)
    return out
  }

  it('evicts every anonymous session before a signed-in one', async () => {
    const store = memoryStore({ maxSessions: 4 })
    const now = Date.now()
    const user = (n: number) => ({ id: id(n), uid: `u${n}` })
    await store.create(user(0), { fields: {}, meta: { ...meta(now), uid: 'u0' } }, { now })
    for (let i = 1; i < 4; i++)
      await store.create({ id: id(i) }, { fields: {}, meta: meta(now) }, { now })
    // a new signed-in session takes the oldest anonymous one's place, not the older user's
    await store.create(user(4), { fields: {}, meta: { ...meta(now), uid: 'u4' } }, { now })
    expect(
      await alive(store, [user(0), { id: id(1) }, { id: id(2) }, { id: id(3) }, user(4)], now),
    ).toEqual([true, false, true, true, true])
    // more anonymous sessions only ever replace anonymous ones
    for (let i = 5; i < 10; i++)
      await store.create({ id: id(i) }, { fields: {}, meta: meta(now) }, { now })
    expect(await alive(store, [user(0), user(4), { id: id(8) }, { id: id(9) }], now)).toEqual([
      true,
      true,
      true,
      true,
    ])
  })

  it('keeps no new anonymous session when signed-in ones fill the store', async () => {
    const store = memoryStore({ maxSessions: 2 })
    const now = Date.now()
    const user = (n: number) => ({ id: id(n), uid: `u${n}` })
    for (let i = 0; i < 2; i++)
      await store.create(user(i), { fields: {}, meta: { ...meta(now), uid: `u${i}` } }, { now })
    await store.create({ id: id(2) }, { fields: {}, meta: meta(now) }, { now })
    expect(await alive(store, [user(0), user(1), { id: id(2) }], now)).toEqual([true, true, false])
    // a signed-in one still gets in, in place of the oldest signed-in one
    await store.create(user(3), { fields: {}, meta: { ...meta(now), uid: 'u3' } }, { now })
    expect(await alive(store, [user(0), user(1), user(3)], now)).toEqual([false, true, true])
    expect(await store.listUser('u0', now)).toEqual([])
  })

  it('sweeps expired entries a batch at a time without a full scan', async () => {
    const store = memoryStore({ sweepBatch: 10 })
    const now = Date.now()
    for (let i = 0; i < 100; i++)
      await store.create({ id: id(i) }, { fields: {}, meta: meta(now, now + 10) }, { now })
    const size = async () => ((await store.ping()).details as { sessions: number }).sessions
    expect(await size()).toBe(100)
    // each call examines at most 10 entries: the first call removes 10 of the expired ones
    await store.load({ id: id(999) }, { now: now + 20, extendIfBefore: 0, extendTo: 0 })
    expect(await size()).toBe(90)
    for (let i = 0; i < 12; i++)
      await store.load({ id: id(999) }, { now: now + 20, extendIfBefore: 0, extendTo: 0 })
    expect(await size()).toBe(0)
  })
})
