import { describe, expect, it } from 'vitest'
import { memoryStore } from '../src/store/memory.js'
import { testStore } from './conformance.js'

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
