import { beforeAll, expect, it } from 'vitest'
import type { Store } from '../store/types.js'
import type { SuiteContext } from './context.js'

/**
 * The life of one session: create, load, expiry and extension, commit (field patches, under
 * concurrency too), destroy, consume, replace; and ping.
 */
export function sessionCases(suite: SuiteContext): void {
  const { IDLE, newId, uniqueUser, sessionAt, noExtend, loadLive, create } = suite
  let store: Store
  beforeAll(() => {
    store = suite.store()
  })

  it('creates and loads a session with its fields and metadata', async () => {
    const now = Date.now()
    const key = { id: newId() }
    await create(
      key,
      now,
      { a: '1', b: '"two"' },
      { client: 'Firefox on Linux', amr: ['pwd'], roles: ['user'] },
    )
    const got = await loadLive(key, noExtend(now + 1000))
    expect(got?.extended).toBe(false)
    expect(got?.session.fields).toEqual({ a: '1', b: '"two"' })
    expect(got?.session.meta).toMatchObject({
      createdAt: now,
      expiresAt: now + IDLE,
      client: 'Firefox on Linux',
      amr: ['pwd'],
      roles: ['user'],
    })
  })

  it('returns null for a session that never existed', async () => {
    expect(await loadLive({ id: newId() }, noExtend(Date.now()))).toBeNull()
    expect(await loadLive({ id: newId(), uid: 'nobody' }, noExtend(Date.now()))).toBeNull()
  })

  it('enforces the idle and the absolute deadline against the caller clock', async () => {
    const now = Date.now()
    const idle = { id: newId() }
    await create(idle, now)
    expect(await loadLive(idle, noExtend(now + IDLE - 1))).not.toBeNull()
    expect(await loadLive(idle, noExtend(now + IDLE))).toBeNull()
    // once found expired it is gone for good
    expect(await loadLive(idle, noExtend(now))).toBeNull()

    const abs = { id: newId() }
    await store.create(abs, sessionAt(now, { absoluteExpiresAt: now + 2000 }), { now })
    expect(await loadLive(abs, noExtend(now + 1999))).not.toBeNull()
    expect(await loadLive(abs, noExtend(now + 2000))).toBeNull()
  })

  it('extends only when due, never past the absolute deadline', async () => {
    const now = Date.now()
    const key = { id: newId() }
    await create(key, now)
    // not due: deadline is after extendIfBefore
    const early = await loadLive(key, {
      now: now + 1000,
      extendIfBefore: now + 1000,
      extendTo: now + 1000 + IDLE,
    })
    expect(early?.extended).toBe(false)
    expect(early?.session.meta.expiresAt).toBe(now + IDLE)
    // due
    const later = now + IDLE / 2
    const due = await loadLive(key, {
      now: later,
      extendIfBefore: later + IDLE / 2,
      extendTo: later + IDLE,
    })
    expect(due?.extended).toBe(true)
    expect(due?.session.meta.expiresAt).toBe(later + IDLE)
    expect(due?.session.meta.lastSeenAt).toBe(later)
    const again = await loadLive(key, noExtend(later + 1))
    expect(again?.session.meta.expiresAt).toBe(later + IDLE)
    // capped by the absolute deadline
    const short = { id: newId() }
    const abs = Math.floor((now + IDLE + 3000) / 1000) * 1000
    await store.create(short, sessionAt(now, { absoluteExpiresAt: abs }), { now })
    const mid = now + IDLE / 2
    const capped = await loadLive(short, {
      now: mid,
      extendIfBefore: mid + IDLE,
      extendTo: mid + IDLE,
    })
    expect(capped?.extended).toBe(true)
    expect(capped?.session.meta.expiresAt).toBe(abs)
  })

  it('commits a field patch: only changed fields, deletes, metadata', async () => {
    const now = Date.now()
    const key = { id: newId() }
    await create(key, now, { keep: '"k"', change: '1', drop: 'true' })
    const res = await store.commit(
      key,
      {
        set: { change: '2', added: '[1,2]' },
        del: ['drop', 'absent'],
        meta: { roles: ['admin'], authTime: now },
      },
      noExtend(now + 10),
    )
    expect(res).toEqual({ expiresAt: now + IDLE, extended: false })
    const got = await loadLive(key, noExtend(now + 20))
    expect(got?.session.fields).toEqual({ keep: '"k"', change: '2', added: '[1,2]' })
    expect(got?.session.meta.roles).toEqual(['admin'])
    expect(got?.session.meta.authTime).toBe(now)
    expect(got?.session.meta.lastSeenAt).toBe(now + 10)
  })

  it('commit extends like load and reports the new deadline', async () => {
    const now = Date.now()
    const key = { id: newId() }
    await create(key, now)
    const t = now + IDLE - 5000
    const res = await store.commit(
      key,
      { set: { x: '1' }, del: [] },
      { now: t, extendIfBefore: t + IDLE, extendTo: t + IDLE },
    )
    expect(res).toEqual({ expiresAt: t + IDLE, extended: true })
    expect((await loadLive(key, noExtend(now + IDLE + 1000)))?.session.fields).toEqual({
      x: '1',
    })
  })

  it('never resurrects a destroyed or expired session on commit', async () => {
    const now = Date.now()
    const key = { id: newId() }
    await create(key, now, { a: '1' })
    await store.destroy(key)
    expect(await store.commit(key, { set: { a: '2' }, del: [] }, noExtend(now))).toBeNull()
    expect(await loadLive(key, noExtend(now))).toBeNull()

    const expired = { id: newId() }
    await create(expired, now)
    expect(
      await store.commit(expired, { set: { a: '2' }, del: [] }, noExtend(now + IDLE)),
    ).toBeNull()
    expect(await loadLive(expired, noExtend(now))).toBeNull()
  })

  it('destroy is idempotent', async () => {
    const key = { id: newId() }
    await store.destroy(key)
    await create(key, Date.now())
    await store.destroy(key)
    await store.destroy(key)
    expect(await loadLive(key, noExtend(Date.now()))).toBeNull()
  })

  it('consume reads and deletes in one step', async () => {
    const now = Date.now()
    const uid = uniqueUser('consume')
    const key = { id: newId(), uid }
    await create(key, now, { a: '1' })
    const got = await loadLive(key, { ...noExtend(now), consume: true })
    expect(got?.session.fields).toEqual({ a: '1' })
    expect(await loadLive(key, noExtend(now))).toBeNull()
    if (suite.has.userIndex) expect(await store.listUser(uid, now)).toEqual([])
  })

  it('create with replace deletes the replaced entry (same user and across users)', async () => {
    const now = Date.now()
    const uid = uniqueUser('replace')
    const anon = { id: newId() }
    await create(anon, now, { cart: '[1]' })
    const first = { id: newId(), uid }
    await store.create(first, sessionAt(now, { uid }, { cart: '[1]' }), { now, replace: anon })
    expect(await loadLive(anon, noExtend(now))).toBeNull()
    const second = { id: newId(), uid }
    await store.create(second, sessionAt(now, { uid }), { now, replace: first })
    expect(await loadLive(first, noExtend(now))).toBeNull()
    if (suite.has.userIndex) {
      expect((await store.listUser(uid, now)).map((s) => s.id)).toEqual([second.id])
    }
  })

  it('keeps every field patch of concurrent commits to one session (no lost update)', async () => {
    const now = Date.now()
    const key = { id: newId() }
    const before = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`old${i}`, '0']))
    await create(key, now, before)
    // 25 requests each set a field of their own, 25 each delete one: all land
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.commit(
          key,
          i % 2 ? { set: { [`new${i}`]: String(i) }, del: [] } : { set: {}, del: [`old${i / 2}`] },
          noExtend(now + i),
        ),
      ),
    )
    expect(results).toEqual(
      Array.from({ length: 50 }, () => ({ expiresAt: now + IDLE, extended: false })),
    )
    const expected = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [`new${2 * i + 1}`, String(2 * i + 1)]),
    )
    expect((await loadLive(key, noExtend(now + 100)))?.session.fields).toEqual(expected)
  })

  it('never resurrects a session when a commit races a destroy', async () => {
    const now = Date.now()
    const extendNow = { now, extendIfBefore: now + 2 * IDLE, extendTo: now + 2 * IDLE }
    for (let round = 0; round < 20; round++) {
      const key = round % 2 ? { id: newId() } : { id: newId(), uid: uniqueUser('racer') }
      await create(key, now, { a: '1' })
      const commit = () => store.commit(key, { set: { b: '2' }, del: ['a'] }, extendNow)
      const destroy = () => store.destroy(key)
      await Promise.all(round % 4 < 2 ? [commit(), destroy()] : [destroy(), commit()])
      expect(await loadLive(key, noExtend(now)), `round ${round}`).toBeNull()
    }
  })

  it('ping answers with a latency', async () => {
    const health = await store.ping()
    expect(health.latencyMs).toBeGreaterThanOrEqual(0)
  })
}
