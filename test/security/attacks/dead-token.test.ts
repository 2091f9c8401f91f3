/**
 * A dead token acting for its user (security issue, finding 2; SECURITY.md attack 11): a token
 * that was logged out, revoked, logged out everywhere or rotated past its grace window is
 * replayed against the devices API, alone and concurrently with the revocation.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { stopAll } from '../../helpers/redis.js'
import { sleep } from '../../helpers/load.js'
import { burst, startTarget, tally, type Attacker, type Target } from './harness.js'

let t: Target
let rotating: Target
beforeAll(async () => {
  t = await startTarget()
  rotating = await startTarget({ rotateEvery: 1, rotationGrace: 1 })
})
beforeEach(async () => {
  await t.raw.flushall()
  await rotating.raw.flushall()
})
afterAll(async () => {
  await t.close()
  await rotating.close()
  await stopAll()
})

type Listed = { sessions: { id: string; current: boolean }[] }
/** The id of the client's current session, or 'none' when it has none. */
const idOf = async (c: Attacker) => {
  const listed = (await c.json('GET', '/api/sessions')).body as Partial<Listed>
  return listed.sessions?.find((s) => s.current)?.id ?? 'none'
}

/** Every way the dead token may try to act, each of which must be refused with 401. */
async function expectPowerless(target: Target, dead: Attacker, victimId: string) {
  expect((await dead.json('GET', '/api/me')).status).toBe(401)
  const list = await dead.json('GET', '/api/sessions')
  expect(list.status).toBe(401)
  expect(JSON.stringify(list.body)).not.toContain(victimId)
  expect((await dead.json('DELETE', `/api/sessions/${victimId}`)).status).toBe(401)
  expect((await dead.json('POST', '/api/logout-all')).status).toBe(401)
  expect((await dead.json('POST', '/api/2fa/verify', { code: '123456' })).status).toBe(401)
  expect((await dead.json('POST', '/api/2fa/enrol', { password: 'alice-password' })).status).toBe(
    401,
  )
  expect((await dead.json('POST', '/settings/sessions/logout-all')).status).toBe(401)
  // the victim's session is untouched
  const keys = await target.raw.keys('sess:{alice}:*')
  expect(keys.map((k) => k.split(':').at(-1))).toContain(victimId)
}

describe('attack: a dead token controls the devices API', () => {
  it('after logout-all', async () => {
    const attacker = t.client()
    await attacker.login()
    const kept = t.client().steal(attacker).frozen()
    const victim = t.client()
    await victim.login()
    expect((await victim.json('POST', '/api/logout-all')).body).toEqual({ destroyed: 2 })
    await victim.login()
    await expectPowerless(t, kept, await idOf(victim))
  })

  it('after logout', async () => {
    const attacker = t.client()
    await attacker.login()
    const kept = t.client().steal(attacker).frozen()
    expect((await attacker.json('POST', '/logout')).status).toBe(303)
    const victim = t.client()
    await victim.login()
    await expectPowerless(t, kept, await idOf(victim))
  })

  it('after being revoked', async () => {
    const attacker = t.client()
    await attacker.login()
    const victim = t.client()
    await victim.login()
    const attackerId = await idOf(attacker)
    expect((await victim.json('DELETE', `/api/sessions/${attackerId}`)).status).toBe(200)
    await expectPowerless(t, attacker.frozen(), await idOf(victim))
  })

  it('after rotation, once the grace window is over', async () => {
    const attacker = rotating.client()
    await attacker.login()
    const kept = rotating.client().steal(attacker).frozen()
    await sleep(1100)
    // a request rotates the secret; the kept copy is the previous token
    expect((await attacker.json('GET', '/api/me')).status).toBe(200)
    expect(attacker.token()).not.toBe(kept.token())
    // inside the grace window the previous token still reaches the session
    expect((await kept.json('GET', '/api/sessions')).status).toBe(200)
    await sleep(1100)
    const victim = rotating.client()
    await victim.login()
    await expectPowerless(rotating, kept, await idOf(victim))
  })

  it('racing the revocation: 200 concurrent requests of a token being logged out everywhere', async () => {
    for (let round = 0; round < 3; round++) {
      await t.raw.flushall()
      const attacker = t.client()
      await attacker.login()
      attacker.frozen()
      const victim = t.client()
      await victim.login()
      // The victim logs out everywhere, then signs in again (a session the attacker never saw),
      // while the attacker's token fires 200 requests at the devices API.
      let fresh = ''
      const revocation = (async () => {
        await victim.json('POST', '/api/logout-all')
        await victim.login()
        fresh = await idOf(victim)
      })()
      const shots = burst(200, (i) =>
        i % 2 === 0
          ? attacker.json('GET', '/api/sessions')
          : attacker.json('POST', '/api/logout-all'),
      )
      const [outcomes] = await Promise.all([shots, revocation])
      // no listing ever shows the new session, and it survives every logout-all
      expect((await victim.json('GET', '/api/me')).status).toBe(200)
      for (const o of outcomes) expect(JSON.stringify(o.body)).not.toContain(fresh)
      expect(await idOf(victim)).toBe(fresh)
      const counts = tally(outcomes)
      expect(Object.keys(counts).every((s) => s === '200' || s === '401')).toBe(true)
    }
  })
})
