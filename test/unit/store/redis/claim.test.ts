import { describe, expect, it } from 'vitest'
import { claim } from '../../../../src/store/redis/claim.js'
import { PREFIX, newId, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/claim', () => {
  it('marks once for the TTL; refuses a dead actor without marking', async () => {
    const uid = `cl-${newId().slice(0, 8)}`
    await expect(
      h.run(claim, uid, 'step:1', 60_000, { id: newId(), now: Date.now() }),
    ).rejects.toMatchObject({
      code: 'ERR_SESSION_REQUIRED',
    })
    expect(await h.raw.exists(`${PREFIX}{${uid}}:c:step:1`)).toBe(0)
    expect(await h.run(claim, uid, 'step:1', 60_000, undefined)).toBe(true)
    expect(await h.run(claim, uid, 'step:1', 60_000, undefined)).toBe(false)
    expect(await h.raw.pttl(`${PREFIX}{${uid}}:c:step:1`)).toBeGreaterThan(59_000)
  })
})
