import { describe, expect, it } from 'vitest'
import { hit } from '../../../../src/store/redis/hit.js'
import { parseKeyName } from '../../../../src/store/redis/layout.js'
import { rateHit } from '../../../../src/store/redis/rate-hit.js'
import { SCRIPTS } from '../../../../src/store/redis/scripts.js'
import { keySlot } from '../../../../src/store/redis/slot.js'
import { PREFIX, newId, redisHarness } from './harness.js'

const h = redisHarness()
const o = (limit: number, by?: number) => ({ windowMs: 60_000, limit, by, now: Date.now() })

describe('store/redis/rate-hit', () => {
  it('lays out one key outside every user slot, hash-tagged by the key, with the hit script', () => {
    expect(rateHit.layout(PREFIX, 'api:abc', o(3))).toEqual({
      keys: [`${PREFIX}rl:{api:abc}`],
      args: ['60000', '1', '3', ''],
    })
    // the script every store already loads and the gateway already registers
    expect(rateHit.script).toBe(hit.script)
    expect(Object.values(SCRIPTS)).toContain(rateHit.script)
    // never read back as a session, an index or a user's item
    expect(parseKeyName(PREFIX, `${PREFIX}rl:{api:abc}`)).toBeNull()
    expect(keySlot(`${PREFIX}rl:{api:abc}`)).toBe(keySlot('api:abc'))
    for (const bad of ['', 'a{b', 'a}b', 'sp ace', 'x'.repeat(201)])
      expect(() => rateHit.layout(PREFIX, bad, o(1))).toThrow(/rate limit key/)
  })

  it('counts in a window, refuses past the limit changing nothing, gives back to nothing', async () => {
    const key = `t:${newId().slice(0, 12)}`
    const name = `${PREFIX}rl:{${key}}`
    expect(await h.run(rateHit, key, o(2))).toMatchObject({ count: 1, allowed: true })
    expect(await h.run(rateHit, key, o(2))).toMatchObject({ count: 2, allowed: true })
    const refused = await h.run(rateHit, key, o(2))
    expect(refused).toMatchObject({ count: 2, allowed: false })
    expect(refused.resetMs).toBeGreaterThan(59_000)
    expect(await h.raw.get(name)).toBe('2')
    expect(await h.raw.pttl(name)).toBeGreaterThan(59_000)
    await h.run(rateHit, key, o(2, -2))
    expect(await h.raw.exists(name)).toBe(0)
  })
})
