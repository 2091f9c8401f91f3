/**
 * Trusted devices (issue 20, item 2), over HTTP against the demo on the memory store, a real
 * redis-server and a real Redis Cluster: "don't ask again on this device for 30 days" lets the
 * next sign-in on that device skip the code, and nothing else does. A trust cookie copied into
 * another user's browser, kept past a log out everywhere or a change of the factor, tampered
 * with, or expired is worth nothing; an always-fresh operation asks for the code regardless.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createDemoApp } from '../../../demo/app.js'
import { memoryStore } from '../../../src/store/memory.js'
import { ioredisStore } from '../../../src/store/ioredis.js'
import type { Store } from '../../../src/store/types.js'
import { serveHttp, type Served } from '../../helpers/load.js'
import { startCluster, startRedis, stopAll } from '../../helpers/redis.js'
import { KEY_A } from '../../helpers/session-app.js'
import { Attacker, codes } from './harness.js'

const TRUST = 'trusted-device'
const NEW_PASSWORD = { password: 'a-brand-new-password' }
const DAY = 86_400_000

/** A store to run the demo on: `fresh()` gives an empty one for each test. */
interface Topology {
  name: string
  open(): Promise<{ fresh(): Promise<Store>; close(): Promise<void> }>
}

const topologies: Topology[] = [
  {
    name: 'memory store',
    async open() {
      return { fresh: async () => memoryStore(), close: async () => {} }
    },
  },
  {
    name: 'ioredis store, standalone',
    async open() {
      const server = await startRedis()
      const store = ioredisStore({ url: server.url, logger: () => {} })
      const raw = new Redis({ port: server.port, host: server.host })
      return {
        fresh: async () => {
          await raw.flushall()
          return store
        },
        close: async () => {
          await store.close()
          raw.disconnect()
        },
      }
    },
  },
  {
    name: 'ioredis store, Cluster',
    async open() {
      const cluster = await startCluster()
      const store = ioredisStore({ cluster: cluster.startupNodes, logger: () => {} })
      return {
        fresh: async () => {
          await Promise.all(cluster.masters.map((m) => m.cli('FLUSHALL')))
          return store
        },
        close: () => store.close(),
      }
    },
  },
]

afterAll(() => stopAll())

for (const topology of topologies) {
  describe(`trusted devices over HTTP, ${topology.name}`, () => {
    let opened: Awaited<ReturnType<Topology['open']>>
    let served: Served
    /** The demo's clock runs `offset` ms ahead of the wall clock (codes follow it). */
    let offset = 0
    const clock = () => Date.now() + offset
    beforeAll(async () => {
      opened = await topology.open()
    })
    beforeEach(async () => {
      const app = createDemoApp({
        store: await opened.fresh(),
        keys: [KEY_A],
        insecureLocalhost: true,
        now: clock,
        clientAddress: (c) => getConnInfo(c).remote.address,
      })
      served = await serveHttp(app.fetch)
    })
    afterEach(async () => {
      await served?.close()
    })
    afterAll(async () => {
      await opened?.close()
    })

    const browser = () => new Attacker(served, 10_000)
    /** A browser (or an attacker) that keeps its copy of the trust cookie when told to clear it. */
    const keepsTrust = (b: Attacker) => {
      const take = b.jar.take.bind(b.jar)
      b.jar.take = (res: Response) => {
        const kept = b.jar.cookies.get(TRUST)
        take(res)
        if (kept !== undefined) b.jar.cookies.set(TRUST, kept)
        return res
      }
      return b
    }
    /** A fresh code: the clock moves one step on first, so no code is ever a replay. */
    const code = (secret: string) => {
      offset += 30_000
      return { code: codes.generate(secret, clock()) }
    }
    /** A browser of `user` with TOTP enrolled and this device trusted by a step-up. */
    const trustedBrowser = async (user = 'alice') => {
      const b = browser()
      expect((await b.login(user)).status).toBe(303)
      const secret = await enrol(b, user)
      const verified = await b.json('POST', '/api/2fa/verify', { ...code(secret), remember: 'on' })
      expect(verified.body).toEqual({ ok: true })
      expect(b.jar.cookies.get(TRUST)).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/)
      const line = b.jar.lastSetCookie.find((l) => l.startsWith(`${TRUST}=`))!
      expect(line).toMatch(/Max-Age=2592000/)
      expect(line).toMatch(/HttpOnly/)
      expect(line).toMatch(/SameSite=Strict/)
      return { b, secret }
    }
    const enrol = async (b: Attacker, user: string) => {
      const started = await b.json('POST', '/api/2fa/enrol', { password: `${user}-password` })
      expect(started.status).toBe(200)
      const { secret } = started.body as { secret: string }
      expect((await b.json('POST', '/api/2fa/confirm', code(secret))).body).toEqual({ ok: true })
      return secret
    }
    /** Signs out (the trust cookie stays, as a browser keeps it) and in again. */
    const signInAgain = async (b: Attacker, user = 'alice') => {
      expect((await b.request('POST', '/logout')).status).toBe(303)
      expect((await b.login(user)).status).toBe(303)
    }
    const changePassword = (b: Attacker) => b.json('POST', '/api/password', NEW_PASSWORD)

    it('with the trust cookie the next sign-in skips the code; without it, it is asked', async () => {
      const { b } = await trustedBrowser()
      await signInAgain(b)
      const changed = await changePassword(b)
      expect(changed.status).toBe(200)
      const page = await b.request('GET', '/settings/2fa')
      expect(page.body).toContain('You signed in on a trusted device')
      // the same user on a device that never ticked the box: asked for the code
      const other = browser()
      await other.login()
      expect((await changePassword(other)).body).toMatchObject({ reason: 'missing-method' })
      // unticked: no cookie
      const { secret } = await trustedBrowser('admin')
      const plain = browser()
      await plain.login('admin')
      await plain.json('POST', '/api/2fa/verify', code(secret))
      expect(plain.jar.cookies.has(TRUST)).toBe(false)
    })

    it('trust counts only within the freshness window of the sign-in, as a code would', async () => {
      const { b } = await trustedBrowser()
      await signInAgain(b)
      offset += 301_000
      const stale = await changePassword(b)
      expect(stale.status).toBe(401)
      expect(stale.body).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED', reason: 'stale' })
    })

    it("the cookie copied into another user's browser does nothing", async () => {
      const { b: alice } = await trustedBrowser('alice')
      await trustedBrowser('admin') // admin is enrolled too, and has a trust epoch of his own
      const admin = browser()
      admin.jar.cookies.set(TRUST, alice.jar.cookies.get(TRUST)!)
      expect((await admin.login('admin')).status).toBe(303)
      expect((await changePassword(admin)).body).toMatchObject({ reason: 'missing-method' })
      // alice's cookie is left alone (a shared computer) and still works for alice
      expect(admin.jar.cookies.has(TRUST)).toBe(true)
      await signInAgain(admin, 'alice')
      expect((await changePassword(admin)).status).toBe(200)
    })

    it('after log out everywhere the cookie no longer works, on any device', async () => {
      const { b: laptop } = await trustedBrowser()
      const kept = browser().steal(laptop)
      const phone = browser()
      await phone.login()
      expect((await phone.json('POST', '/api/logout-all')).body).toEqual({ destroyed: 2 })
      for (const device of [laptop, kept]) {
        await device.login()
        expect((await changePassword(device)).body).toMatchObject({ reason: 'missing-method' })
      }
      expect(laptop.jar.cookies.has(TRUST)).toBe(false) // a dead cookie is cleared
    })

    it('after the factor is replaced, the cookie and sessions signed in with it stop counting', async () => {
      const { b: laptop, secret } = await trustedBrowser()
      const kept = keepsTrust(browser().steal(laptop))
      await signInAgain(kept) // a session signed in on the trusted device, not yet used
      const phone = browser()
      await phone.login()
      await phone.json('POST', '/api/2fa/verify', code(secret))
      const again = await phone.json('POST', '/api/2fa/enrol')
      expect(again.status).toBe(200)
      const s2 = (again.body as { secret: string }).secret
      expect((await phone.json('POST', '/api/2fa/confirm', code(s2))).body).toEqual({ ok: true })
      expect((await changePassword(kept)).body).toMatchObject({ reason: 'missing-method' })
      await signInAgain(kept)
      expect((await changePassword(kept)).body).toMatchObject({ reason: 'missing-method' })
    })

    it('after the factor is removed, the cookie no longer works', async () => {
      const { b: laptop, secret } = await trustedBrowser()
      const kept = keepsTrust(browser().steal(laptop))
      expect((await laptop.json('POST', '/api/2fa/disable')).body).toEqual({ ok: true })
      // enrolled again: the old cookie still does nothing
      await enrol(laptop, 'alice')
      void secret
      await signInAgain(kept)
      expect((await changePassword(kept)).body).toMatchObject({ reason: 'missing-method' })
    })

    it('a tampered cookie does nothing', async () => {
      const { b } = await trustedBrowser()
      const value = b.jar.cookies.get(TRUST)!
      const parts = value.split('.')
      // every segment: header, IV, ciphertext, tag; a changed character anywhere is refused
      for (const i of [0, 2, 3, 4]) {
        const seg = parts[i]!
        const mid = Math.floor(seg.length / 2)
        const flipped = seg[mid] === 'A' ? 'B' : 'A'
        const bad = [...parts]
        bad[i] = seg.slice(0, mid) + flipped + seg.slice(mid + 1)
        const c = browser()
        c.jar.cookies.set(TRUST, bad.join('.'))
        await c.login()
        expect((await changePassword(c)).body).toMatchObject({ reason: 'missing-method' })
        expect(c.jar.cookies.has(TRUST)).toBe(false)
      }
      // a session token in the trust cookie's place is not a trust cookie
      const s = browser()
      s.jar.cookies.set(TRUST, b.token()!)
      await s.login()
      expect((await changePassword(s)).body).toMatchObject({ reason: 'missing-method' })
    })

    it('an expired cookie does nothing', async () => {
      const { b } = await trustedBrowser()
      const kept = keepsTrust(browser().steal(b))
      offset += 29 * DAY
      await signInAgain(kept)
      expect((await changePassword(kept)).status).toBe(200) // day 29: still trusted
      offset += 1 * DAY + 1000
      await signInAgain(kept)
      expect((await changePassword(kept)).body).toMatchObject({ reason: 'missing-method' })
    })

    it('an always-fresh operation still asks for the code', async () => {
      const { b, secret } = await trustedBrowser()
      await signInAgain(b)
      const email = { email: 'alice@example.org' }
      const refused = await b.json('POST', '/api/email', email)
      expect(refused.status).toBe(401)
      expect(refused.body).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED', reason: 'missing-method' })
      // replacing or removing the factor needs the code itself too
      expect((await b.json('POST', '/api/2fa/disable')).status).toBe(401)
      expect((await b.json('POST', '/api/2fa/verify', code(secret))).body).toEqual({ ok: true })
      expect((await b.json('POST', '/api/email', email)).status).toBe(200)
    })

    it('stop trusting every device: the button ends every trust cookie of the user', async () => {
      const { b } = await trustedBrowser()
      const kept = keepsTrust(browser().steal(b))
      const other = browser()
      await other.login()
      expect((await other.json('POST', '/api/2fa/trusted/revoke')).body).toEqual({ ok: true })
      await signInAgain(kept)
      expect((await changePassword(kept)).body).toMatchObject({ reason: 'missing-method' })
    })
  })
}
