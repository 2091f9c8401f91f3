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
})
