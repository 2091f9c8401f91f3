import { describe, expect, it } from 'vitest'
import { hit } from '../../../../src/store/redis/hit.js'
import { PREFIX, newId, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/hit', () => {
  it('lays out the counter key of the user and the limit', () => {
    expect(hit.layout(PREFIX, 'u', 'tries', { windowMs: 1000, limit: 3 })).toEqual({
      keys: [`${PREFIX}{u}:h:tries`],
      args: ['1000', '1', '3', ''],
    })
    expect(() => hit.layout(PREFIX, 'u', 'bad name', { windowMs: 1 })).toThrow(/item name/)
  })

  it('counts in a window, refuses past the limit, deletes a counter given back to 0', async () => {
    const uid = `hit-${newId().slice(0, 8)}`
    const o = { windowMs: 60_000, limit: 2 }
    expect(await h.run(hit, uid, 'n', o)).toMatchObject({ count: 1, allowed: true })
    expect(await h.run(hit, uid, 'n', o)).toMatchObject({ count: 2, allowed: true })
    const refused = await h.run(hit, uid, 'n', o)
    expect(refused).toMatchObject({ count: 2, allowed: false })
    expect(refused.resetMs).toBeGreaterThan(59_000)
    await h.run(hit, uid, 'n', { windowMs: 60_000, by: -2 })
    expect(await h.raw.exists(`${PREFIX}{${uid}}:h:n`)).toBe(0)
  })
})
