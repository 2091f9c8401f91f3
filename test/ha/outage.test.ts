/**
 * Redis stopped (every node) for a while and started again, for every store: ioredis standalone,
 * ioredis Sentinel (master, replicas and sentinels stopped), ioredis Cluster (every node), and
 * the Upstash store through the gateway (Redis behind the gateway stopped). The demo app is
 * served over real HTTP on loopback, once fail-closed and once fail-open, on the same store.
 *
 * Checked: no request waits past its timeout (max measured), the process stays up (/healthz),
 * /readyz answers 503, fail-closed gives 503 + Retry-After + JSON, fail-open serves anonymous
 * (401 on /api/me), and service resumes without restarting the app (new logins work).
 * Outage 3 s by default, 10 s with HA_LONG=1. One line per store: `[ha-outage] store=... ...`.
 *
 * Note: servers run with --save "" --appendonly no, so sessions do not survive the restart here
 * (persistence.test.ts covers that); what matters is that the app recovers by itself.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../../demo/app.js'
import { createGateway, listen } from '../../src/gateway/index.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { ioredisStore } from '../../src/store/ioredis.js'
import { upstashStore } from '../../src/store/upstash.js'
import type { Store } from '../../src/store/types.js'
import {
  eventually,
  figures,
  HttpClient,
  isClear503,
  serveHttp,
  sleep,
  type Outcome,
} from '../helpers/load.js'
import { startCluster, startRedis, startSentinelGroup, stopAll } from '../helpers/redis.js'
import { KEY_A } from '../helpers/session-app.js'

afterAll(stopAll, 60_000)

const OUTAGE_MS = process.env.HA_LONG === '1' ? 10_000 : 3_000
const CLIENT_TIMEOUT_MS = 5000
const STORE_TIMEOUT_MS = 2000 // the middleware's bound (default); stores have tighter ones

interface Target {
  store: Store
  down(): Promise<void>
  up(): Promise<void>
  close(): Promise<void>
}

async function outage(name: string, target: Target) {
  const closed = await serveHttp(
    createDemoApp({ store: target.store, keys: [KEY_A], insecureLocalhost: true }).fetch,
  )
  const open = await serveHttp(
    createDemoApp({
      store: target.store,
      keys: [KEY_A],
      insecureLocalhost: true,
      onStoreError: 'fail-open',
    }).fetch,
  )
  try {
    const c = new HttpClient(closed, CLIENT_TIMEOUT_MS)
    const o = new HttpClient(open, CLIENT_TIMEOUT_MS)
    expect((await c.login()).status).toBe(303)
    expect((await o.login()).status).toBe(303)
    expect((await c.request('GET', '/api/me')).status).toBe(200)
    expect((await o.request('GET', '/api/me')).status).toBe(200)
    const openCookie = o.token()

    await target.down()
    const downAt = Date.now()
    const closedMe: Outcome[] = []
    const closedWrite: Outcome[] = []
    const closedAnon: Outcome[] = []
    const openMe: Outcome[] = []
    const openCounter: Outcome[] = []
    const openAnonCounter: Outcome[] = []
    const health: Outcome[] = []
    const ready: Outcome[] = []
    for (let i = 0; i < 200 && Date.now() - downAt < OUTAGE_MS; i++) {
      const [a, b, d, e, f, g, h, r] = await Promise.all([
        c.request('GET', '/api/me'),
        c.request('PUT', '/api/prefs/x', { value: String(i) }),
        new HttpClient(closed, CLIENT_TIMEOUT_MS).request('POST', '/api/counter'),
        o.request('GET', '/api/me'),
        o.request('POST', '/api/counter'),
        new HttpClient(open, CLIENT_TIMEOUT_MS).request('POST', '/api/counter'),
        c.request('GET', '/healthz'),
        c.request('GET', '/readyz'),
      ])
      closedMe.push(a)
      closedWrite.push(b)
      closedAnon.push(d)
      openMe.push(e)
      openCounter.push(f)
      openAnonCounter.push(g)
      health.push(h)
      ready.push(r)
      await sleep(100)
    }
    const all = [
      ...closedMe,
      ...closedWrite,
      ...closedAnon,
      ...openMe,
      ...openCounter,
      ...openAnonCounter,
      ...health,
      ...ready,
    ]
    const maxMs = Math.max(...all.map((x) => x.ms))
    const statuses = (list: Outcome[]) => [...new Set(list.map((x) => x.status))].join('/')

    const openCookieKept = o.token() === openCookie
    const openCounterBodies = [...new Set(openCounter.map((x) => JSON.stringify(x.body)))].join('/')
    await target.up()
    const upAt = Date.now()
    let recoveredMs = -1
    const fresh = new HttpClient(closed, CLIENT_TIMEOUT_MS)
    const back = await eventually(
      async () => {
        const res = await fresh.login()
        if (res.status !== 303) return false
        recoveredMs = Date.now() - upAt
        return (await fresh.request('GET', '/api/me')).status === 200
      },
      30_000,
      100,
    )
    const openBack = new HttpClient(open, CLIENT_TIMEOUT_MS)
    expect((await openBack.login()).status).toBe(303)
    expect((await openBack.request('GET', '/api/me')).status).toBe(200)
    // fail-open left the old cookie alone: whether it still works depends on persistence
    const oldOpen = (await o.request('GET', '/api/me')).status

    figures('ha-outage', {
      store: name,
      outageMs: OUTAGE_MS,
      rounds: closedMe.length,
      maxRequestMs: maxMs,
      closedMe: statuses(closedMe),
      closedWrite: statuses(closedWrite),
      closedAnonCounter: statuses(closedAnon),
      openMe: statuses(openMe),
      openCounter: statuses(openCounter),
      openAnonCounter: statuses(openAnonCounter),
      healthz: statuses(health),
      readyz: statuses(ready),
      recoveredAfterStartMs: recoveredMs,
      oldCookieAfterRestart: oldOpen,
      openCookieKept,
      openCounterBodies,
    })

    expect(maxMs).toBeLessThan(STORE_TIMEOUT_MS + 500)
    expect(all.every((x) => typeof x.status === 'number')).toBe(true) // no hang, no reset
    expect(health.every((x) => x.status === 200)).toBe(true)
    expect(ready.every((x) => x.status === 503)).toBe(true)
    for (const x of [...closedMe, ...closedWrite, ...closedAnon])
      expect(isClear503(x), JSON.stringify(x)).toBe(true)
    expect(openMe.every((x) => x.status === 401)).toBe(true)
    // fail-open, a write: the read side is anonymous, but nothing can be stored, and the
    // answer says so (a 200 would claim a write that did not happen)
    for (const x of [...openCounter, ...openAnonCounter])
      expect(isClear503(x), JSON.stringify(x)).toBe(true)
    expect(openCookieKept).toBe(true) // fail-open leaves the stored session and cookie alone
    expect(back).toBe(true)
  } finally {
    await closed.close()
    await open.close()
    await target.close()
  }
}

describe(`Redis down for ${OUTAGE_MS} ms, then back`, () => {
  it('ioredis standalone', async () => {
    const server = await startRedis()
    const store = ioredisStore({ url: server.url, logger: () => {} })
    await outage('ioredis-standalone', {
      store,
      down: () => server.stop(),
      up: () => server.start(),
      close: () => store.close(),
    })
  }, 90_000)

  it('ioredis Sentinel (every node stopped)', async () => {
    const group = await startSentinelGroup({ replicas: 1, sentinels: 3, downAfterMs: 1000 })
    const store = ioredisStore({
      sentinels: group.sentinelAddrs,
      name: group.name,
      logger: () => {},
    })
    const nodes = [group.master, ...group.replicas, ...group.sentinels]
    await outage('ioredis-sentinel', {
      store,
      down: async () => {
        await Promise.all(nodes.map((n) => n.stop()))
      },
      up: async () => {
        await group.master.start()
        await Promise.all([...group.replicas, ...group.sentinels].map((n) => n.start()))
      },
      close: async () => {
        await store.close()
        await group.stop()
      },
    })
  }, 90_000)

  it('ioredis Cluster (every node stopped)', async () => {
    const cluster = await startCluster({ masters: 3, replicasPerMaster: 1 })
    const store = ioredisStore({ cluster: cluster.startupNodes, logger: () => {} })
    await outage('ioredis-cluster', {
      store,
      down: async () => {
        await Promise.all(cluster.nodes.map((n) => n.stop()))
      },
      up: async () => {
        await Promise.all(cluster.nodes.map((n) => n.start()))
      },
      close: async () => {
        await store.close()
        await cluster.stop()
      },
    })
  }, 90_000)

  it('Upstash store via the gateway (Redis behind it stopped)', async () => {
    const server = await startRedis()
    const redis = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
    const token = 'outage-token-0123456789abcdef'
    const gw = await listen(createGateway({ redis, tokens: [token], timeoutMs: 2000 }), {
      port: 0,
    })
    const store = upstashStore({ url: gw.url, token })
    await outage('upstash-gateway', {
      store,
      down: () => server.stop(),
      up: () => server.start(),
      close: async () => {
        await gw.stop()
        redis.disconnect()
      },
    })
  }, 90_000)
})
