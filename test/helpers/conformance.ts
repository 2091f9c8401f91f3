import { beforeAll, expect, it } from 'vitest'
// across-stores.ts imports no store: this suite also runs inside workerd
import { acrossStores } from './across-stores.js'
import {
  isMoved,
  type SessionKey,
  type SessionMeta,
  type Store,
  type StoredSession,
} from '../../src/store/types.js'

/**
 * The store conformance suite: every store joins with one line,
 * `testStore('name', async () => ({ store, cleanup }))`.
 * Times are real epoch milliseconds with offsets, so TTLs set in Redis stay long enough for the
 * test (minutes) while the deadlines checked by the scripts move with the `now` argument.
 */
export function testStore(
  name: string,
  setup: () => Promise<{ store: Store; cleanup?: () => Promise<void> }>,
): void {
  acrossStores([{ name: `store conformance: ${name}`, setup }], (current) => {
    let store: Store
    beforeAll(() => {
      store = current()
    })

    const IDLE = 10 * 60_000
    let counter = 0
    const newId = () => {
      const n = `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2)}`
      return (n + 'A'.repeat(43)).slice(0, 43).replace(/[^A-Za-z0-9_-]/g, 'x')
    }
    const uniqueUser = (label: string) => `${label}-${newId().slice(0, 12)}`
    const sessionAt = (
      now: number,
      extra: Partial<SessionMeta> = {},
      fields = {},
    ): StoredSession => ({
      fields: { ...fields },
      meta: {
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + IDLE,
        absoluteExpiresAt: Math.floor((now + 6 * IDLE) / 1000) * 1000,
        ...extra,
      },
    })
    const noExtend = (now: number) => ({ now, extendIfBefore: 0, extendTo: 0 })
    /** `store.load` where a rotation alias would be a test failure. */
    const loadLive = async (key: SessionKey, options: Parameters<Store['load']>[1]) => {
      const result = await store.load(key, options)
      if (isMoved(result)) throw new Error(`unexpected alias to ${result.movedTo}`)
      return result
    }
    const create = async (
      key: SessionKey,
      now: number,
      fields = {},
      meta: Partial<SessionMeta> = {},
    ) => {
      await store.create(key, sessionAt(now, { uid: key.uid, ...meta }, fields), { now })
    }

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
      expect(await store.listUser(uid, now)).toEqual([])
    })

    it('load with increment adds to an integer field atomically and returns the session', async () => {
      const now = Date.now()
      const uid = uniqueUser('incr')
      const key = { id: newId(), uid }
      await create(key, now, { n: '41', other: '"x"' })
      const inc = (field: string, by: number, at = now) =>
        loadLive(key, { ...noExtend(at), increment: { field, by } })
      const got = await inc('n', 1)
      expect(got?.session.fields).toEqual({ n: '42', other: '"x"' })
      expect(got?.incrementRefused).toBeFalsy()
      // a missing field counts from 0; negative steps work
      expect((await inc('fresh', -5))?.session.fields.fresh).toBe('-5')
      // 50 concurrent increments: none lost
      await Promise.all(Array.from({ length: 50 }, () => inc('n', 2)))
      expect((await loadLive(key, noExtend(now)))?.session.fields.n).toBe('142')
      // extends like a plain load
      const later = await loadLive(key, {
        now: now + 1000,
        extendIfBefore: now + IDLE,
        extendTo: now + 1000 + IDLE,
        increment: { field: 'n', by: 1 },
      })
      expect(later?.extended).toBe(true)
      expect(later?.session.meta.expiresAt).toBe(now + 1000 + IDLE)
      expect(later?.session.fields.n).toBe('143')
    })

    it("treats field names of Object.prototype's members as plain names", async () => {
      const now = Date.now()
      const key = { id: newId() }
      await create(key, now, { toString: '"t"' })
      const got = await loadLive(key, {
        ...noExtend(now),
        increment: { field: 'constructor', by: 3 },
      })
      expect(got?.incrementRefused).toBeFalsy()
      expect(got?.session.fields).toEqual({ toString: '"t"', constructor: '3' })
      expect(Object.hasOwn(got!.session.fields, 'hasOwnProperty')).toBe(false)
    })

    it('load with increment refuses a field that is not a safe integer and changes nothing', async () => {
      const now = Date.now()
      const key = { id: newId() }
      const big = String(Number.MAX_SAFE_INTEGER)
      await create(key, now, { s: '"seven"', f: '1.5', big, huge: '9007199254740993' })
      for (const [field, by] of [
        ['s', 1],
        ['f', 1],
        ['big', 1],
        ['huge', -10],
      ] as const) {
        const got = await loadLive(key, { ...noExtend(now), increment: { field, by } })
        expect(got?.incrementRefused, field).toBe(true)
      }
      expect((await loadLive(key, noExtend(now)))?.session.fields).toEqual({
        s: '"seven"',
        f: '1.5',
        big,
        huge: '9007199254740993',
      })
      // the largest safe step back down still works
      const down = await loadLive(key, { ...noExtend(now), increment: { field: 'big', by: -1 } })
      expect(down?.session.fields.big).toBe(String(Number.MAX_SAFE_INTEGER - 1))
    })

    it('load with increment never resurrects a gone session', async () => {
      const now = Date.now()
      const key = { id: newId() }
      await create(key, now, { n: '1' })
      await store.destroy(key)
      expect(await loadLive(key, { ...noExtend(now), increment: { field: 'n', by: 1 } })).toBeNull()
      expect(await loadLive(key, noExtend(now))).toBeNull()
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
      expect((await store.listUser(uid, now)).map((s) => s.id)).toEqual([second.id])
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

    it('stores any string value byte for byte', async () => {
      const now = Date.now()
      const key = { id: newId() }
      const values = {
        unicode: JSON.stringify('héllo wörld 🎉 \u0000 \u2028'),
        big: JSON.stringify('x'.repeat(32 * 1024)),
        nested: JSON.stringify({ a: [1, { b: null }], c: 1e300 }),
        empty: '""',
        // raw text, not JSON: every ASCII code (controls, quote, backslash, DEL) and non-ASCII
        // (the Redis load reply is one JSON text built in Lua: escaping must be exact)
        raw: Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('') + '\\"é🎉\\',
        'name "with" \\ and \u0001\u001f\u007f': '"\\u0000"',
      }
      await create(key, now, values)
      expect((await loadLive(key, noExtend(now)))?.session.fields).toEqual(values)
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
      expect((await store.listUser(uid, t + 1)).map((x) => x.id)).toEqual([to.id])
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
      expect(await store.listUser(uid, t + 1)).toEqual([])
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

    it('hit counts per user and window; claim marks once; user values round-trip', async () => {
      const uid = uniqueUser('rl')
      const count = async (u: string, name: string, windowMs: number, by?: number) =>
        (await store.hit(u, name, { windowMs, by })).count
      expect(await count(uid, 'otp-fail', 60_000)).toBe(1)
      expect(await count(uid, 'otp-fail', 60_000)).toBe(2)
      expect(await count(uid, 'otp-fail', 60_000, 0)).toBe(2)
      expect(await count(uid, 'otp-fail', 60_000, -1)).toBe(1)
      // given back to nothing: the counter is gone, its window too
      expect(await store.hit(uid, 'otp-fail', { windowMs: 60_000, by: -1 })).toEqual({
        count: 0,
        allowed: true,
        resetMs: 0,
      })
      expect(await store.hit(uid, 'otp-fail', { windowMs: 60_000, by: 0 })).toMatchObject({
        count: 0,
      })
      expect(await count(uid, 'peek', 60_000, 0)).toBe(0)
      expect(await count(uniqueUser('rl2'), 'otp-fail', 60_000)).toBe(1)
      expect(await count(uid, 'short', 50)).toBe(1)
      await new Promise((r) => setTimeout(r, 80))
      expect(await count(uid, 'short', 50)).toBe(1)
      expect(await store.claim(uid, 'otp:123456', 60_000)).toBe(true)
      expect(await store.claim(uid, 'otp:123456', 60_000)).toBe(false)
      expect(await store.claim(uniqueUser('c'), 'otp:123456', 60_000)).toBe(true)
      expect(await store.getUserValue(uid, 'totp')).toBeNull()
      await store.setUserValue(uid, 'totp', 'sealed-secret')
      expect(await store.getUserValue(uid, 'totp')).toBe('sealed-secret')
      await store.setUserValue(uid, 'totp', null)
      expect(await store.getUserValue(uid, 'totp')).toBeNull()
      await expect(store.hit(uid, 'bad name!', { windowMs: 1000 })).rejects.toThrow()
    })

    it('hit with a limit counts and checks in one step: parallel callers never pass it', async () => {
      const uid = uniqueUser('lim')
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.hit(uid, 'tries', { windowMs: 60_000, limit: 5 })),
      )
      expect(results.filter((r) => r.allowed)).toHaveLength(5)
      expect(
        results
          .filter((r) => r.allowed)
          .map((r) => r.count)
          .sort(),
      ).toEqual([1, 2, 3, 4, 5])
      for (const r of results.filter((x) => !x.allowed)) {
        expect(r.count).toBe(5)
        expect(r.resetMs).toBeGreaterThan(0)
        expect(r.resetMs).toBeLessThanOrEqual(60_000)
      }
      // giving one back makes room for exactly one more
      expect((await store.hit(uid, 'tries', { windowMs: 60_000, by: -1 })).count).toBe(4)
      expect((await store.hit(uid, 'tries', { windowMs: 60_000, limit: 5 })).allowed).toBe(true)
      expect((await store.hit(uid, 'tries', { windowMs: 60_000, limit: 5 })).allowed).toBe(false)
    })

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

    it('maxDataBytes refuses a write that grows the data past it, commit, increment and rotate alike', async () => {
      const now = Date.now()
      const uid = uniqueUser('size')
      const key = { id: newId(), uid }
      await create(key, now, { a: '"' + 'x'.repeat(80) + '"' }) // 1 + 82 bytes
      const o = { ...noExtend(now), maxDataBytes: 100 }
      await expect(
        store.commit(key, { set: { b: '"' + 'y'.repeat(20) + '"' }, del: [] }, o),
      ).rejects.toMatchObject({ code: 'ERR_SESSION_LIMIT' })
      await expect(
        store.load(key, { ...o, increment: { field: 'counter', by: 1 }, maxDataBytes: 85 }),
      ).rejects.toMatchObject({ code: 'ERR_SESSION_LIMIT' })
      const to = { id: newId(), uid }
      await expect(
        store.rotate(
          key,
          to,
          { set: { b: '"' + 'y'.repeat(20) + '"' }, del: [] },
          {
            ...o,
            graceMs: 1000,
          },
        ),
      ).rejects.toMatchObject({ code: 'ERR_SESSION_LIMIT' })
      // nothing was written
      expect((await loadLive(key, noExtend(now)))?.session.fields).toEqual({
        a: '"' + 'x'.repeat(80) + '"',
      })
      expect(await store.load(to, noExtend(now))).toBeNull()
      // within the limit, and a write that shrinks, go through; metadata does not count
      expect(await store.commit(key, { set: { b: '1' }, del: [] }, o)).not.toBeNull()
      const lowered = { ...noExtend(now), maxDataBytes: 10 }
      // a session already over a lowered limit may still write what does not grow it
      expect(await store.commit(key, { set: { b: '2' }, del: [] }, lowered)).not.toBeNull()
      expect(await store.commit(key, { set: {}, del: ['a'] }, lowered)).not.toBeNull()
      expect((await loadLive(key, noExtend(now)))?.session.fields).toEqual({ b: '2' })
    })

    it('ping answers with a latency', async () => {
      const health = await store.ping()
      expect(health.latencyMs).toBeGreaterThanOrEqual(0)
    })
  })
}
