/**
 * Attack: one TOTP code, two sign-ins. Someone who watched a code being typed signs in with the
 * password on another device and offers the same code there. The used-code marker is the
 * user's (`claimOnce` per time step), not the session's, so the second use fails wherever it
 * comes from. better-auth 1.7's twoFactor plugin keeps no such marker: `npm run bench:probes`
 * shows one code accepted at two sign-ins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stopAll } from '../../helpers/redis.js'
import { codes, startTarget, type Target } from './harness.js'

let t: Target
beforeAll(async () => {
  t = await startTarget()
})
afterAll(async () => {
  await t.close()
  await stopAll()
})

describe('attack: one TOTP code at two sign-ins', () => {
  it('the first session steps up with it, the second gets 401 replayed', async () => {
    const owner = t.client()
    expect((await owner.login()).status).toBe(303)
    const secret = await owner.enrol()
    const onlooker = t.client()
    expect((await onlooker.login()).status).toBe(303)
    // the next step's code: within the ±1 window, and not the one the enrolment used
    const code = codes.generate(secret, Date.now() + 30_000)
    const first = await owner.json('POST', '/api/2fa/verify', { code })
    expect(first.status).toBe(200)
    const second = await onlooker.json('POST', '/api/2fa/verify', { code })
    expect(second.status).toBe(401)
    expect(second.body).toEqual({ ok: false, reason: 'replayed' })
  })
})
