import { describe, expect, it } from 'vitest'
import { sessionKeyName, userIndexKeyName } from '../../../../src/store/redis/layout.js'
import { rotate } from '../../../../src/store/redis/rotate.js'
import { sweep } from '../../../../src/store/redis/sweep.js'
import { IDLE, PREFIX, newId, redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/sweep', () => {
  it('prunes past scores, vanished hashes and aliases; never a hash; deletes an emptied index', async () => {
    const uid = `sw-${newId().slice(0, 8)}`
    const now = Date.now()
    const idx = userIndexKeyName(PREFIX, uid)
    const [live, vanished, moved] = [newId(), newId(), newId()]
    for (const id of [live, vanished, moved]) await h.put({ id, uid }, now)
    await h.raw.del(sessionKeyName(PREFIX, { id: vanished, uid }))
    // a rotation leaves an alias at `moved` and indexes the new id instead; put the alias back
    // in the index as a stale export would
    const to = { id: newId(), uid }
    const grace = { now, extendIfBefore: 0, extendTo: now + IDLE, graceMs: 30_000 }
    await h.run(rotate, { id: moved, uid }, to, { set: {}, del: [] }, grace)
    await h.raw.zadd(idx, now + IDLE, moved)
    await h.raw.zadd(idx, now - 1, 'past-member') // after: the writes above prune past scores
    expect(await h.run(sweep, idx, now)).toBe(3)
    expect(new Set(await h.raw.zrange(idx, '0', '-1'))).toEqual(new Set([live, to.id]))
    expect(await h.raw.exists(sessionKeyName(PREFIX, { id: moved, uid }))).toBe(1) // alias kept
    // an index whose members are all stale goes away
    await h.raw.del(sessionKeyName(PREFIX, { id: live, uid }), sessionKeyName(PREFIX, to))
    expect(await h.run(sweep, idx, now)).toBe(2)
    expect(await h.raw.exists(idx)).toBe(0)
  })
})
