/**
 * Limits under attack, over HTTP on a real Redis (security issue, findings 5 and 8; SECURITY.md
 * attack 12): blind writes past `maxSessionBytes`, password guessing, and a password change that
 * leaves the attacker's session alive.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { stopAll } from '../../helpers/redis.js'
import { burst, dump, startTarget, tally, type Target } from './harness.js'

let t: Target
beforeAll(async () => {
  t = await startTarget()
})
beforeEach(async () => {
  await t.raw.flushall()
})
afterAll(async () => {
  await t.close()
  await stopAll()
})

/** Bytes of data fields (names plus values) held in Redis, per session hash. */
async function dataBytes(): Promise<number[]> {
  const out: number[] = []
  for (const [, fields] of await dump(t.raw)) {
    if (!('$e' in fields)) continue
    let n = 0
    for (const [name, value] of Object.entries(fields)) {
      if (!name.startsWith('$') || name.startsWith('$f:'))
        n += Buffer.byteLength(name) + Buffer.byteLength(value)
    }
    out.push(n)
  }
  return out
}

describe('attack: writes without a read exceed maxSessionBytes', () => {
  it('400 blind 1 KiB writes: refused with 413 past 256 KiB, nothing past it stored', async () => {
    const c = t.client()
    const value = 'x'.repeat(1000)
    const statuses: number[] = []
    for (let i = 0; i < 400; i++) {
      const o = await c.json('PUT', `/api/prefs/p${i}`, { value })
      statuses.push(o.status as number)
    }
    const ok = statuses.filter((s) => s === 200).length
    expect(statuses.filter((s) => s !== 200 && s !== 413)).toEqual([])
    expect(ok).toBeGreaterThan(200)
    expect(ok).toBeLessThan(400)
    // once refused, always refused: a refused write stored nothing
    expect(statuses.indexOf(413)).toBe(ok)
    const sizes = await dataBytes()
    expect(sizes).toHaveLength(1)
    expect(sizes[0]).toBeLessThanOrEqual(262_144)
    // the session still works: it can sign in
    expect((await c.login()).status).toBe(303)
    expect((await c.json('GET', '/api/me')).status).toBe(200)
  })

  it('concurrent blind writes from copies of one cookie cannot pass the limit together', async () => {
    const c = t.client()
    expect((await c.json('PUT', '/api/prefs/first', { value: 'x' })).status).toBe(200)
    const value = 'y'.repeat(1000)
    const outcomes = await burst(400, (i) =>
      t.client().steal(c).json('PUT', `/api/prefs/q${i}`, { value }),
    )
    const counts = tally(outcomes)
    expect(Object.keys(counts).sort()).toEqual(['200', '413'])
    const sizes = await dataBytes()
    expect(sizes[0]).toBeLessThanOrEqual(262_144)
  })
})

describe('attack: unthrottled password guessing', () => {
  it('wrong passwords for one user: at most 10 are checked, then 429 with Retry-After', async () => {
    const c = t.client()
    const outcomes = await burst(200, () =>
      c.json('POST', '/login', { username: 'alice', password: 'guess' }),
    )
    expect(tally(outcomes)).toEqual({ 401: 10, 429: 190 })
    for (const o of outcomes.filter((x) => x.status === 429))
      expect(Number(o.retryAfter)).toBeGreaterThan(0)
    // the right password is refused too while the user is locked: the attacker learns nothing
    expect((await c.login()).status).toBe(429)
    // another user is not affected
    expect((await t.client().login('admin')).status).toBe(303)
  })

  it('wrong passwords from one client across users: at most 100 are checked', async () => {
    const c = t.client()
    const outcomes = await burst(300, (i) =>
      c.json('POST', '/login', { username: `user${i}`, password: 'guess' }),
    )
    expect(tally(outcomes)).toEqual({ 401: 100, 429: 200 })
  })

  it('successful sign-ins do not use up the budget', async () => {
    for (let i = 0; i < 30; i++) expect((await t.client().login()).status).toBe(303)
  })
})

describe('attack: a password change keeps the other sessions', () => {
  it("the attacker's session dies; the changer keeps a session with a new secret", async () => {
    const attacker = t.client()
    await attacker.login()
    const owner = t.client()
    await owner.login()
    await owner.enrol()
    const before = owner.token()
    const change = await owner.json('POST', '/api/password', { password: 'a-brand-new-password' })
    expect(change.status).toBe(200)
    expect(owner.token()).not.toBe(before)
    expect((await owner.json('GET', '/api/me')).status).toBe(200)
    expect((await attacker.json('GET', '/api/me')).status).toBe(401)
    const { sessions } = (await owner.json('GET', '/api/sessions')).body as {
      sessions: unknown[]
    }
    expect(sessions).toHaveLength(1)
  })
})
