/**
 * Backup codes and the account lockout (issue 20, items 1 and 4), as an attacker and a user act:
 * the demo over real HTTP on the memory store, a real redis-server, a real Redis Cluster, and the
 * Upstash store through the project's gateway (real HTTP) on a redis-server.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createDemoApp, type DemoOptions } from '../../../demo/app.js'
import type { SessionEvent } from '../../../src/events.js'
import { ioredisStore } from '../../../src/store/ioredis.js'
import { memoryStore } from '../../../src/store/memory.js'
import { upstashStore } from '../../../src/store/upstash.js'
import type { Store } from '../../../src/store/types.js'
import { startGateway } from '../../helpers/gateway.js'
import { serveHttp, type Outcome, type Served } from '../../helpers/load.js'
import { startCluster, startRedis, stopAll } from '../../helpers/redis.js'
import { KEY_A } from '../../helpers/session-app.js'
import { Attacker, burst, codes, dump, tally } from './harness.js'

/**
 * Bounds of store calls, well above any wait on a loaded 2-core machine: the bursts below count
 * outcomes, and a call timed out under load would be a 503 that says nothing about the codes.
 */
const SLOW_MACHINE_MS = 15_000

/** A store to run on: a new one (or an emptied one) per test, and the raw Redis behind it. */
interface Backend {
  name: string
  start(): Promise<{ fresh(): Promise<Store>; raw?: Redis[]; close(): Promise<void> }>
}

const BACKENDS: Backend[] = [
  {
    name: 'memory store',
    async start() {
      return { fresh: async () => memoryStore(), close: async () => {} }
    },
  },
  {
    name: 'redis-server (standalone)',
    async start() {
      const server = await startRedis()
      const store = ioredisStore({
        url: server.url,
        commandTimeoutMs: SLOW_MACHINE_MS,
        logger: () => {},
      })
      const raw = new Redis({ host: server.host, port: server.port })
      return {
        raw: [raw],
        async fresh() {
          await raw.flushall()
          return store
        },
        async close() {
          raw.disconnect()
          await store.close()
        },
      }
    },
  },
  {
    name: 'Redis Cluster',
    async start() {
      const cluster = await startCluster()
      const store = ioredisStore({
        cluster: cluster.startupNodes,
        commandTimeoutMs: SLOW_MACHINE_MS,
        logger: () => {},
      })
      const raw = cluster.masters.map((m) => new Redis({ host: m.host, port: m.port }))
      return {
        raw,
        async fresh() {
          await Promise.all(raw.map((r) => r.flushall()))
          return store
        },
        async close() {
          for (const r of raw) r.disconnect()
          await store.close()
        },
      }
    },
  },
  {
    name: 'Upstash store via the gateway',
    async start() {
      const server = await startRedis()
      const gateway = await startGateway({ url: server.url, commandTimeoutMs: SLOW_MACHINE_MS })
      const store = upstashStore({
        url: gateway.url,
        token: gateway.token,
        timeoutMs: SLOW_MACHINE_MS,
      })
      const raw = new Redis({ host: server.host, port: server.port })
      return {
        raw: [raw],
        async fresh() {
          await raw.flushall()
          return store
        },
        async close() {
          raw.disconnect()
          await gateway.close()
        },
      }
    },
  },
]

const CODE = /^[A-Z2-7]{5}-[A-Z2-7]{5}$/
const NEW_PASSWORD = { password: 'a-brand-new-password' }
const reasonOf = (o: Outcome) => (o.body as { reason?: string }).reason

afterAll(stopAll)

for (const backend of BACKENDS) {
  describe(`backup codes and lockout over HTTP: ${backend.name}`, () => {
    let made: Awaited<ReturnType<Backend['start']>>
    let served: Served | undefined
    const events: SessionEvent[] = []
    beforeAll(async () => {
      made = await backend.start()
    }, 60_000)
    afterAll(async () => {
      await served?.close()
      await made?.close()
    })
    beforeEach(async () => {
      await served?.close()
      served = undefined
      events.length = 0
    })

    /** The demo on a fresh store, served over HTTP. */
    async function target(options: Partial<DemoOptions> = {}) {
      const store = await made.fresh()
      const app = createDemoApp({
        store,
        keys: [KEY_A],
        insecureLocalhost: true,
        storeTimeoutMs: SLOW_MACHINE_MS,
        clientAddress: (c) => getConnInfo(c).remote.address,
        onEvent: (e) => {
          if (e.type !== 'store-call') events.push(e)
        },
        ...options,
      })
      served = await serveHttp(app.fetch)
      const s = served
      return {
        client: () => new Attacker(s, 20_000),
        /**
         * `n` sign-ins of alice (each its own session), made `batch` at a time (the login
         * limit reserves each password check, right or wrong: at most 10 in flight per user).
         */
        async signIns(n: number, batch = 8): Promise<Attacker[]> {
          const out: Attacker[] = []
          for (let i = 0; i < n; i += batch) {
            const some = Array.from(
              { length: Math.min(batch, n - i) },
              () => new Attacker(s, 20_000),
            )
            await Promise.all(some.map(async (c) => expect((await c.login()).status).toBe(303)))
            out.push(...some)
          }
          return out
        },
      }
    }

    /** Alice signs in, enrols TOTP and takes the backup codes the enrolment offers. */
    async function enrolled(t: Awaited<ReturnType<typeof target>>) {
      const phone = t.client()
      await phone.login()
      const secret = await phone.enrol()
      const made = await phone.json('POST', '/api/2fa/backup-codes')
      expect(made.status).toBe(200)
      return { phone, secret, backup: (made.body as { codes: string[] }).codes }
    }

    it('enrolment offers 10 codes kept only as hashes; one steps up once, as otp', async () => {
      const t = await target()
      const { backup } = await enrolled(t)
      expect(backup).toHaveLength(10)
      expect(new Set(backup).size).toBe(10)
      for (const code of backup) expect(code).toMatch(CODE)
      // at rest: no code, with or without its dash, anywhere in Redis
      for (const raw of made.raw ?? []) {
        const text = JSON.stringify([...(await dump(raw))])
        for (const code of backup) {
          expect(text).not.toContain(code)
          expect(text).not.toContain(code.replace('-', ''))
        }
      }

      // a new sign-in (the password only) cannot do the sensitive operation...
      const laptop = t.client()
      await laptop.login()
      expect((await laptop.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(401)
      // ...until it steps up with a backup code (typed in lower case, without the dash)
      const used = await laptop.json('POST', '/api/2fa/verify', {
        code: backup[3]!.replace('-', '').toLowerCase(),
      })
      expect(used.status).toBe(200)
      expect(used.body).toEqual({ ok: true, remaining: 9 })
      expect((await laptop.json('GET', '/api/2fa/backup-codes')).body).toEqual({ remaining: 9 })
      const page = await laptop.request('GET', '/settings/2fa')
      expect(page.body).toContain('9 backup codes left.')

      // the same code from another sign-in: used
      const thief = t.client()
      await thief.login()
      const again = await thief.json('POST', '/api/2fa/verify', { code: backup[3]! })
      expect(again.status).toBe(401)
      expect(reasonOf(again)).toBe('replayed')
      expect((await thief.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(401)
      // a code never made
      const made2 = await thief.json('POST', '/api/2fa/verify', { code: 'AAAAA-AAAAA' })
      expect(reasonOf(made2)).toBe('invalid')
      // the backup code counts as otp for requireFreshAuth
      expect((await laptop.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(200)
    })

    it('200 concurrent uses of one code, each from its own sign-in: exactly one succeeds', async () => {
      // limits far above 200, so that every use is checked: only the claim decides (and the
      // cheapest hashing allowed: 200 checks hash the code 10 times each on a 2-core machine)
      const t = await target({
        twoFactor: {
          maxFailures: 1000,
          lockout: { maxFailures: 1000 },
          backupCodes: { iterations: 1000 },
        },
      })
      const { backup } = await enrolled(t)
      const signIns = await t.signIns(200)
      const outcomes = await burst(200, (i) =>
        signIns[i]!.json('POST', '/api/2fa/verify', { code: backup[0]! }),
      )
      expect(tally(outcomes)).toEqual({ 200: 1, 401: 199 })
      expect(outcomes.filter((o) => reasonOf(o) === 'replayed')).toHaveLength(199)
      const winner = signIns[outcomes.findIndex((o) => o.status === 200)]!
      expect((await winner.json('POST', '/api/password', NEW_PASSWORD)).status).toBe(200)
      // the other codes still work
      const later = t.client()
      await later.login()
      expect((await later.json('POST', '/api/2fa/verify', { code: backup[1]! })).body).toEqual({
        ok: true,
        remaining: 8,
      })
    }, 120_000)

    it('with the default limits too, 200 concurrent uses of one code: one 200', async () => {
      const t = await target()
      const { backup } = await enrolled(t)
      const signIns = await t.signIns(200)
      const outcomes = await burst(200, (i) =>
        signIns[i]!.json('POST', '/api/2fa/verify', { code: backup[5]! }),
      )
      expect(outcomes.filter((o) => o.status === 200)).toHaveLength(1)
      for (const o of outcomes.filter((x) => x.status !== 200)) {
        expect([401, 429]).toContain(o.status)
        expect(['replayed', 'rate-limited', 'locked']).toContain(reasonOf(o))
      }
    }, 120_000)

    it('making new codes needs a fresh step-up; the new set replaces the old', async () => {
      const t = await target()
      const { backup } = await enrolled(t)
      const other = t.client()
      await other.login() // the password only
      const refused = await other.json('POST', '/api/2fa/backup-codes')
      expect(refused.status).toBe(401)
      expect(refused.body).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED', methods: ['otp'] })
      const page = await other.request('POST', '/settings/2fa/backup-codes')
      expect(page.status).toBe(401)
      expect((await other.json('GET', '/api/2fa/backup-codes')).body).toEqual({ remaining: 10 })

      // a backup code is a fresh step-up: it may make a new set
      expect((await other.json('POST', '/api/2fa/verify', { code: backup[0]! })).status).toBe(200)
      const renewed = await other.request('POST', '/settings/2fa/backup-codes')
      expect(renewed.status).toBe(200)
      const fresh = [...String(renewed.body).matchAll(/<code>([A-Z2-7-]{11})<\/code>/g)].map(
        (m) => m[1]!,
      )
      expect(fresh).toHaveLength(10)
      expect((await other.json('GET', '/api/2fa/backup-codes')).body).toEqual({ remaining: 10 })
      const third = t.client()
      await third.login()
      const old = await third.json('POST', '/api/2fa/verify', { code: backup[1]! })
      expect(reasonOf(old)).toBe('invalid')
      expect((await third.json('POST', '/api/2fa/verify', { code: fresh[9]! })).body).toEqual({
        ok: true,
        remaining: 9,
      })
    })

    it('removing the factor deletes the codes and takes backup from every session', async () => {
      const t = await target()
      const { phone, backup } = await enrolled(t)
      const laptop = t.client()
      await laptop.login()
      expect((await laptop.json('POST', '/api/2fa/verify', { code: backup[0]! })).status).toBe(200)
      expect((await phone.json('POST', '/api/2fa/disable')).body).toEqual({ ok: true })
      const stale = await laptop.json('POST', '/api/password', NEW_PASSWORD)
      expect(stale.status).toBe(401)
      expect((await laptop.json('GET', '/api/2fa/backup-codes')).body).toEqual({ remaining: null })
      const gone = await laptop.json('POST', '/api/2fa/verify', { code: backup[1]! })
      expect(reasonOf(gone)).toBe('not-enrolled')
    })

    it('lockout: 100 concurrent wrong codes over 10 sign-ins with N=10: exactly 10 checked, then locked', async () => {
      // the per-window limit out of the way: the lockout alone decides
      const t = await target({
        twoFactor: { maxFailures: 1000, lockout: { maxFailures: 10, duration: 600 } },
      })
      const { secret } = await enrolled(t)
      const signIns = await t.signIns(10)
      const right = () => codes.generate(secret, Date.now() + 30_000)
      const wrongTotp = right() === '000000' ? '111111' : '000000'
      events.length = 0
      const outcomes = await burst(100, (i) =>
        signIns[i % 10]!.json('POST', '/api/2fa/verify', {
          code: i % 2 ? wrongTotp : 'AAAAA-AAAAA', // TOTP and backup codes share the budget
        }),
      )
      expect(tally(outcomes)).toEqual({ 401: 10, 429: 90 })
      expect(outcomes.filter((o) => reasonOf(o) === 'invalid')).toHaveLength(10)
      expect(outcomes.filter((o) => reasonOf(o) === 'locked')).toHaveLength(90)
      for (const o of outcomes.filter((x) => x.status === 429))
        expect(Number(o.retryAfter)).toBeGreaterThan(590)
      const failed = events.filter((e) => e.type === 'step-up-failed')
      expect(failed.filter((e) => e.reason === 'invalid')).toHaveLength(10)
      expect(events.filter((e) => e.type === 'step-up-locked')).toEqual([
        { type: 'step-up-locked', uid: 'alice', failures: 10, durationSeconds: 600 },
      ])

      // locked: the right code from a new sign-in is refused, and the page says so
      const user = t.client()
      await user.login()
      const refused = await user.json('POST', '/api/2fa/verify', { code: right() })
      expect(refused.status).toBe(429)
      expect(reasonOf(refused)).toBe('locked')
      const page = await user.request('POST', '/settings/2fa/verify', { code: right() })
      expect(page.status).toBe(429)
      expect(String(page.body)).toContain(
        'Too many wrong codes: verification is locked for 10 minutes.',
      )
    }, 60_000)

    it('the lock expires after its duration, and the right code works again', async () => {
      const t = await target({ twoFactor: { lockout: { maxFailures: 1, duration: 5 } } })
      const { secret } = await enrolled(t)
      const c = t.client()
      await c.login()
      const right = () => codes.generate(secret, Date.now() + 30_000)
      expect(reasonOf(await c.json('POST', '/api/2fa/verify', { code: 'AAAAA-AAAAA' }))).toBe(
        'invalid',
      )
      const locked = await c.json('POST', '/api/2fa/verify', { code: right() })
      expect(reasonOf(locked)).toBe('locked')
      expect(Number(locked.retryAfter)).toBeLessThanOrEqual(5)
      await new Promise((r) => setTimeout(r, 5100))
      expect((await c.json('POST', '/api/2fa/verify', { code: right() })).body).toEqual({
        ok: true,
      })
    }, 30_000)

    it('lockout across sign-ins: failures add up over sessions, one at a time', async () => {
      const t = await target({
        twoFactor: { maxFailures: 1000, lockout: { maxFailures: 3, duration: 60 } },
      })
      const { secret } = await enrolled(t)
      for (let i = 0; i < 3; i++) {
        const c = t.client() // a new sign-in each time
        await c.login()
        const wrong = await c.json('POST', '/api/2fa/verify', { code: 'AAAAA-AAAAA' })
        expect(reasonOf(wrong)).toBe('invalid')
      }
      const c = t.client()
      await c.login()
      const locked = await c.json('POST', '/api/2fa/verify', {
        code: codes.generate(secret, Date.now() + 30_000),
      })
      expect(locked.status).toBe(429)
      expect(Number(locked.retryAfter)).toBeGreaterThan(55)
      expect(events.filter((e) => e.type === 'step-up-locked')).toHaveLength(1)
    })
  })
}
