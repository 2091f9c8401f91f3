import { describe, expect, it } from 'vitest'
import { commit } from '../../../../src/store/redis/commit.js'
import { PREFIX, newId, noExtend, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/commit', () => {
  it('lays out the patch: pairs counted, then the names to delete', () => {
    const key = { id: 'c'.repeat(43) }
    const layout = commit.layout(PREFIX, key, { set: { a: '1' }, del: ['b'] }, noExtend(7))
    expect(layout).toEqual({
      keys: [PREFIX + key.id],
      args: ['7', '0', '0', key.id, '', '2', '', 'a', '1', 'b'],
    })
  })

  it('writes a patch, answers the deadline, never resurrects, refuses growth past the limit', async () => {
    const now = Date.now()
    const key = { id: newId() }
    await h.put(key, now, { b: '2' })
    const res = await h.run(commit, key, { set: { a: '1' }, del: ['b'] }, noExtend(now))
    expect(res).toMatchObject({ extended: false })
    expect(await h.raw.hget(PREFIX + key.id, 'a')).toBe('1')
    expect(await h.raw.hexists(PREFIX + key.id, 'b')).toBe(0)
    await expect(
      h.run(
        commit,
        key,
        { set: { big: '"xxxxxxxx"' }, del: [] },
        { ...noExtend(now), maxDataBytes: 8 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_LIMIT' })
    expect(await h.raw.hexists(PREFIX + key.id, 'big')).toBe(0)
    await h.raw.del(PREFIX + key.id)
    expect(await h.run(commit, key, { set: { a: '2' }, del: [] }, noExtend(now))).toBeNull()
    expect(await h.raw.exists(PREFIX + key.id)).toBe(0)
  })

  it('counts data bytes at the limit: an overwritten or deleted field counts once, flash counts, metadata does not', async () => {
    const now = Date.now()
    // data bytes (names plus values): a 6 + b 4 + $f:n 6 = 16
    const fields = { a: '12345', b: 'xyz', '$f:n': 'hi' }
    const attempt = async (patch: Parameters<typeof commit.layout>[2], maxDataBytes: number) => {
      const key = { id: newId() }
      await h.put(key, now, fields)
      try {
        await h.run(commit, key, patch, { ...noExtend(now), maxDataBytes })
        return 'written'
      } catch (error) {
        expect(error).toMatchObject({ code: 'ERR_SESSION_LIMIT' })
        expect(await h.raw.hgetall(PREFIX + key.id)).toMatchObject(fields)
        return 'refused'
      }
    }
    const overwrite = { set: { a: '1234567890' }, del: [] } // 16 - 6 + 11 = 21
    expect(await attempt(overwrite, 21)).toBe('written')
    expect(await attempt(overwrite, 20)).toBe('refused')
    const deleteThenSet = { set: { b: 'wxyz1' }, del: ['b'] } // 16 - 4 + 6 = 18
    expect(await attempt(deleteThenSet, 18)).toBe('written')
    expect(await attempt(deleteThenSet, 17)).toBe('refused')
    const flash = { set: { '$f:m': 'abcd' }, del: [] } // 16 + 8 = 24
    expect(await attempt(flash, 24)).toBe('written')
    expect(await attempt(flash, 23)).toBe('refused')
    const withMeta = { ...overwrite, meta: { client: 'x'.repeat(100), roles: ['admin'] } }
    expect(await attempt(withMeta, 21)).toBe('written')
    // a write that shrinks a session already over a lowered limit still goes through
    expect(await attempt({ set: { a: '1' }, del: ['b'] }, 5)).toBe('written')
  })
})
