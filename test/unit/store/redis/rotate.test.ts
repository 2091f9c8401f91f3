import { describe, expect, it } from 'vitest'
import { load } from '../../../../src/store/redis/load.js'
import { rotate } from '../../../../src/store/redis/rotate.js'
import { PREFIX, newId, noExtend, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/rotate', () => {
  it('refuses to move a session to another user before any call', () => {
    expect(() =>
      rotate.layout(
        PREFIX,
        { id: 'a'.repeat(43), uid: 'x' },
        { id: 'b'.repeat(43), uid: 'y' },
        { set: {}, del: [] },
        { ...noExtend(1), graceMs: 1 },
      ),
    ).toThrow(/within its user/)
  })

  it('moves the hash, leaves an alias, and answers moved to a second rotation', async () => {
    const now = Date.now()
    const from = { id: newId(), uid: 'ro' }
    const to = { id: newId(), uid: 'ro' }
    await h.put(from, now, { a: '1' })
    const o = { ...noExtend(now), graceMs: 5000 }
    expect(await h.run(rotate, from, to, { set: { b: '2' }, del: [] }, o)).toMatchObject({
      extended: false,
    })
    expect(await h.raw.hgetall(`${PREFIX}{ro}:${to.id}`)).toMatchObject({ a: '1', b: '2' })
    expect(await h.run(load, from, noExtend(now))).toEqual({ movedTo: to.id })
    expect(await h.run(rotate, from, { id: newId(), uid: 'ro' }, { set: {}, del: [] }, o)).toEqual({
      movedTo: to.id,
    })
    await expect(
      h.run(
        rotate,
        to,
        { id: newId(), uid: 'ro' },
        { set: { c: '"' + 'z'.repeat(50) + '"' }, del: [] },
        { ...o, maxDataBytes: 20 },
      ),
    ).rejects.toMatchObject({ code: 'ERR_SESSION_LIMIT' })
  })
})
