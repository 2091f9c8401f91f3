import { describe, expect, it } from 'vitest'
import { decodeSummaries, listUser } from '../../../../src/store/redis/list-user.js'
import { SUMMARY_FIELDS } from '../../../../src/store/redis/layout.js'
import { PREFIX, newId, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/list-user', () => {
  it('lists the live sessions with their summary fields, soonest first', async () => {
    const now = Date.now()
    const a = { id: newId(), uid: 'li' }
    const b = { id: newId(), uid: 'li' }
    await h.put(a, now, {}, { expiresAt: now + 5000, client: 'Firefox', amr: ['pwd'] })
    await h.put(b, now, {}, { expiresAt: now + 2000 })
    const list = await h.run(listUser, 'li', now, { id: a.id, now })
    expect(list.map((s) => s.id)).toEqual([b.id, a.id])
    expect(list[1]).toMatchObject({ client: 'Firefox', amr: ['pwd'], expiresAt: now + 5000 })
    await expect(h.run(listUser, 'li', now, { id: newId(), now })).rejects.toMatchObject({
      code: 'ERR_SESSION_REQUIRED',
    })
    expect(await h.raw.exists(PREFIX + 'x')).toBe(0)
  })

  it('skips an entry whose metadata will not decode', () => {
    const width = SUMMARY_FIELDS.length
    const good = ['g'.repeat(43), '1', '1', '5', '9', ...Array(width - 4).fill(null)]
    const bad = ['b'.repeat(43), 'x', ...Array(width - 1).fill(null)]
    expect(decodeSummaries([...bad, ...good]).map((s) => s.id)).toEqual(['g'.repeat(43)])
  })
})
