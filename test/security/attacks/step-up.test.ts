/**
 * Attacks on the second factor, over HTTP on a real Redis (security issue, findings 1 and 3;
 * SECURITY.md attacks 9, 12, 13): re-enrolling TOTP from a session that has only a password,
 * and concurrent wrong codes against the failure limit.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { stopAll } from '../../helpers/redis.js'
import { burst, codes, startTarget, tally, type Target } from './harness.js'

let t: Target
beforeAll(async () => {
  t = await startTarget()
})
beforeEach(async () => {
  await t.raw.flushall()
  t.events.length = 0
})
afterAll(async () => {
  await t.close()
  await stopAll()
})

const NEW_PASSWORD = { password: 'a-brand-new-password' }

describe('attack: step-up bypass by re-enrolling TOTP', () => {
  it('a password-only session can neither replace the factor nor gain otp', async () => {
    const victim = t.client()
    expect((await victim.login()).status).toBe(303)
    const s1 = await victim.enrol()

    // the attacker has the password (or a stolen password-only cookie)
    const attacker = t.client()
    expect((await attacker.login()).status).toBe(303)
    expect((await attacker.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(401)
    const enrol = await attacker.json('POST', '/api/2fa/enrol', { password: 'alice-password' })
    expect(enrol.status).toBe(401)
    expect(enrol.body).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED' })
    // nothing pending to confirm: no secret was handed out
    const confirm = await attacker.json('POST', '/api/2fa/confirm', {
      code: codes.generate(s1, Date.now()),
    })
    expect(confirm.status).toBe(401)
    expect((await attacker.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(401)
    // removing the factor needs the factor too
    expect((await attacker.json('POST', '/api/2fa/disable')).status).toBe(401)

    // the victim's factor still works
    await new Promise((r) => setTimeout(r, 1))
    const verify = await victim.json('POST', '/api/2fa/verify', {
      code: codes.generate(s1, Date.now() + 30_000),
    })
    expect(verify.body).toEqual({ ok: true })
    expect(t.events.filter((e) => e.type === 'factor-changed')).toHaveLength(1) // the enrolment
  })

  it('the first factor needs the password again; a wrong one is refused', async () => {
    const c = t.client()
    await c.login()
    expect((await c.json('POST', '/api/2fa/enrol')).status).toBe(401)
    expect((await c.json('POST', '/api/2fa/enrol', { password: 'wrong' })).status).toBe(401)
    expect((await c.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(401)
    const ok = await c.json('POST', '/api/2fa/enrol', { password: 'alice-password' })
    expect(ok.status).toBe(200)
  })

  it('replacing the factor needs a fresh otp; the other sessions lose otp; an event says so', async () => {
    const phone = t.client()
    await phone.login()
    const s1 = await phone.enrol()
    const laptop = t.client()
    await laptop.login()
    const step = await laptop.json('POST', '/api/2fa/verify', {
      code: codes.generate(s1, Date.now() + 30_000),
    })
    expect(step.body).toEqual({ ok: true })
    // (a password change here would sign the phone out: see limits.test.ts)

    // the phone session is freshly verified (its enrolment): it may replace the factor
    const again = await phone.json('POST', '/api/2fa/enrol')
    expect(again.status).toBe(200)
    const s2 = (again.body as { secret: string }).secret
    // a code of the new secret confirms it
    const confirmed = await phone.json('POST', '/api/2fa/confirm', {
      // codes are single-use per user and time step: steps 0 and +1 are used, -1 is not
      code: codes.generate(s2, Date.now() - 30_000),
    })
    expect(confirmed.body).toEqual({ ok: true })
    expect(t.events.filter((e) => e.type === 'factor-changed').map((e) => e)).toEqual([
      expect.objectContaining({ uid: 'alice', method: 'otp', change: 'enrolled' }),
      expect.objectContaining({ uid: 'alice', method: 'otp', change: 'replaced' }),
    ])
    // the laptop's step-up was made with the old factor: it no longer counts
    const stale = await laptop.json('POST', '/api/password', NEW_PASSWORD)
    expect(stale.status).toBe(401)
    expect(stale.body).toMatchObject({ reason: 'missing-method' })
    // old codes are dead, new ones work
    const old = await laptop.json('POST', '/api/2fa/verify', {
      code: codes.generate(s1, Date.now() + 60_000),
    })
    expect(old.body).toEqual({ ok: false, reason: 'invalid' })
    expect((await phone.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(200)
  })

  it('removing the factor needs a fresh otp and takes otp from every session', async () => {
    const c = t.client()
    await c.login()
    await c.enrol()
    const other = t.client()
    await other.login()
    expect((await other.json('POST', '/api/2fa/disable')).status).toBe(401)
    expect((await c.json('POST', '/api/2fa/disable')).body).toEqual({ ok: true })
    expect((await c.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(401)
    expect(t.events.filter((e) => e.type === 'factor-changed').at(-1)).toMatchObject({
      change: 'removed',
    })
  })
})

describe('attack: concurrent wrong TOTP codes pass the failure limit', () => {
  it('300 concurrent wrong codes: exactly 5 are checked, the rest get 429', async () => {
    const c = t.client()
    await c.login()
    const secret = await c.enrol()
    const right = codes.generate(secret, Date.now())
    const wrong = right === '000000' ? '111111' : '000000'
    const outcomes = await burst(300, () => c.json('POST', '/api/2fa/verify', { code: wrong }))
    const counts = tally(outcomes)
    expect(counts).toEqual({ 401: 5, 429: 295 })
    expect(
      outcomes.filter((o) => (o.body as { reason?: string }).reason === 'invalid'),
    ).toHaveLength(5)
    for (const o of outcomes.filter((x) => x.status === 429)) expect(o.retryAfter).toMatch(/^\d+$/)
  })
})
