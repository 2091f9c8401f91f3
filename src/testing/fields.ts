import { beforeAll, expect, it } from 'vitest'
import type { Store } from '../store/types.js'
import type { SuiteContext } from './context.js'

/**
 * What a session holds: atomic increments, field names and values byte for byte, the size
 * limit on every write path.
 */
export function fieldCases(suite: SuiteContext): void {
  const { IDLE, newId, uniqueUser, noExtend, loadLive, create } = suite
  let store: Store
  beforeAll(() => {
    store = suite.store()
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
    if (suite.has.rotation) {
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
    }
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
}
