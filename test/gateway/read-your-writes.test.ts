/**
 * `Upstash-Sync-Token` and `readFrom: 'replicas'` on a real Sentinel group (1 primary + 2
 * replicas, 3 sentinels). One replica replicates through a proxy that holds the master's
 * stream back by LAG_MS, as a replica across a slow link lags: a read sent to it right after
 * a write sees the old value, every time. The other replica is linked directly.
 *
 * Read-after-write pairs (a write of a new value, then a read of it, over real HTTP): with the
 * token each client got from the write, no read is stale; without it, the reads that reach the
 * lagging replica are stale, which shows the check can fail. Both counts are exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis as Upstash } from '@upstash/redis'
import type { Redis } from 'ioredis'
import { createGateway, listen, type RunningGateway } from '../../src/gateway/index.js'
import { connectReplicas } from '../../src/gateway/replicas.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { startLagProxy, type LagProxy } from '../helpers/lag-proxy.js'
import { startSentinelGroup, stopAll, type SentinelGroup } from '../helpers/redis.js'

const TOKEN = 'sync-token-test-0123456789'
const LAG_MS = 200
const PAIRS = 10_000
/** Enough to show the stale reads (about half of them are). */
const PAIRS_WITHOUT = 2_000
const CLIENTS = 10

let group: SentinelGroup
let proxy: LagProxy
let primary: Redis
let replicas: Redis[]
let gw: RunningGateway

/** `INFO` field of a server, through redis-cli. */
async function infoField(server: SentinelGroup['master'], section: string, field: string) {
  const text = await server.cli('INFO', section)
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim()
}

/** Calls of one command on a server since its last CONFIG RESETSTAT. */
async function calls(server: SentinelGroup['master'], command: string): Promise<number> {
  const stat = await infoField(server, 'commandstats', `cmdstat_${command}`)
  return Number(/calls=(\d+)/.exec(stat ?? '')?.[1] ?? 0)
}

async function until(check: () => Promise<boolean>, what: string, ms = 10_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

beforeAll(async () => {
  // failover-timeout also delays Sentinel's "fix" of a replica whose master address differs
  // from the master's (ours goes through the proxy): far beyond the test
  group = await startSentinelGroup({ replicas: 2, failoverTimeoutMs: 600_000 })
  proxy = await startLagProxy(group.master, LAG_MS)
  const lagging = group.replicas[1]!
  await lagging.cli('REPLICAOF', '127.0.0.1', String(proxy.port))
  await until(
    async () => (await infoField(lagging, 'replication', 'master_link_status')) === 'up',
    'the lagging replica to link through the proxy',
  )
  // generous bounds: the counts below must not move when a loaded machine stalls a reply
  const target = {
    sentinels: group.sentinelAddrs,
    name: group.name,
    commandTimeoutMs: 5000,
    stringNumbers: true,
    logger: () => {},
  }
  primary = connectRedis(target) as Redis
  replicas = await connectReplicas(target)
  await until(
    async () => [primary, ...replicas].every((c) => c.status === 'ready'),
    'the gateway connections',
  )
  gw = await listen(
    createGateway({
      redis: primary,
      replicas,
      readFrom: 'replicas',
      tokens: [TOKEN],
      timeoutMs: 20_000,
    }),
    { port: 0 },
  )
}, 60_000)

afterAll(async () => {
  await gw?.stop()
  for (const c of [primary, ...(replicas ?? [])]) c?.disconnect()
  await proxy?.close()
  await stopAll()
})

interface Answer {
  status: number
  body: unknown
  token: string | null
}

async function post(path: string, body: unknown, token?: string | null): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }
  if (token) headers['upstash-sync-token'] = token
  const res = await fetch(gw.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return {
    status: res.status,
    body: await res.json(),
    token: res.headers.get('upstash-sync-token'),
  }
}

/** A write of `value` to `key` by one of four routes, in turn. */
function write(i: number, key: string, value: string, token: string | null) {
  switch (i % 4) {
    case 0:
      return post('/', ['SET', key, value], token)
    case 1:
      return post('/pipeline', [['SET', key, value]], token)
    case 2:
      return post('/multi-exec', [['SET', key, value]], token)
    default:
      return post(`/set/${encodeURIComponent(key)}/${value}`, undefined, token)
  }
}

/** A read of `key` by one of three routes, in turn; resolves with the value read. */
async function read(i: number, key: string, token: string | null) {
  const route = i % 3
  const answer =
    route === 0
      ? await post('/', ['GET', key], token)
      : route === 1
        ? await post(
            '/pipeline',
            [
              ['GET', key],
              ['EXISTS', key],
            ],
            token,
          )
        : await post(`/get/${encodeURIComponent(key)}`, undefined, token)
  const body = answer.body as { result: unknown } | { result: unknown }[]
  const value = Array.isArray(body) ? body[0]!.result : body.result
  return { ...answer, value }
}

/**
 * `total` read-after-write pairs from CLIENTS clients in parallel, each on its own key, each
 * keeping the token of its last answer when `useToken`. Resolves with the stale reads.
 */
async function pairs(label: string, useToken: boolean, total: number): Promise<number> {
  let stale = 0
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const key = `ryw:${label}:${client}`
      let token: string | null = null
      for (let i = 0; i < total / CLIENTS; i++) {
        const value = `${label}-${i}`
        const wrote = await write(i, key, value, useToken ? token : null)
        expect(wrote.status).toBe(200)
        token = wrote.token
        const got = await read(i, key, useToken ? token : null)
        expect(got.status).toBe(200)
        if (got.value !== value) stale++
        token = got.token
      }
    }),
  )
  return stale
}

describe('Upstash-Sync-Token on 1 primary + 2 replicas, one lagging', () => {
  it('connects one client to each replica', () => {
    const ports = replicas.map((r) => (r as unknown as { stream: { remotePort: number } }).stream)
    expect(new Set(ports.map((s) => s.remotePort))).toEqual(
      new Set(group.replicas.map((r) => r.port)),
    )
  })

  it(`with the token: 0 stale reads in ${PAIRS} read-after-write pairs`, async () => {
    for (const s of [group.master, ...group.replicas]) await s.cli('CONFIG', 'RESETSTAT')
    const stale = await pairs('token', true, PAIRS)
    const onPrimary = await calls(group.master, 'get')
    const [direct, lagging] = await Promise.all(group.replicas.map((r) => calls(r, 'get')))
    console.log(
      `with the token: ${stale} stale of ${PAIRS}; GETs run on the primary ${onPrimary}, ` +
        `on the direct replica ${direct}, on the lagging replica ${lagging} (answers dropped)`,
    )
    expect(stale).toBe(0)
    // every read was tried on a replica; those behind the token were answered by the primary
    expect(direct! + lagging!).toBe(PAIRS)
    expect(onPrimary).toBeGreaterThan(0)
    expect(onPrimary).toBeLessThan(PAIRS) // the direct replica, caught up, served the rest
  }, 300_000)

  it(`without the token: the reads on the lagging replica are stale (${PAIRS_WITHOUT} pairs)`, async () => {
    for (const s of [group.master, ...group.replicas]) await s.cli('CONFIG', 'RESETSTAT')
    const stale = await pairs('none', false, PAIRS_WITHOUT)
    const onPrimary = await calls(group.master, 'get')
    const lagging = await calls(group.replicas[1]!, 'get')
    console.log(
      `without the token: ${stale} stale of ${PAIRS_WITHOUT}; GETs on the lagging replica ${lagging}`,
    )
    expect(onPrimary).toBe(0) // nothing asked for a token: the replicas answered everything
    expect(lagging).toBeGreaterThan(0)
    expect(stale).toBeGreaterThan(0)
  }, 300_000)

  it('the official client, unmodified, carries the token (readYourWrites, its default)', async () => {
    const run = async (readYourWrites: boolean) => {
      const u = new Upstash({ url: gw.url, token: TOKEN, readYourWrites })
      let stale = 0
      for (let i = 0; i < 1000; i++) {
        await u.set(`ryw:official:${readYourWrites}`, i)
        if ((await u.get(`ryw:official:${readYourWrites}`)) !== i) stale++
      }
      return { stale, token: u.readYourWritesSyncToken }
    }
    const on = await run(true)
    const off = await run(false)
    console.log(`official client: stale ${on.stale} with readYourWrites, ${off.stale} without`)
    expect(on.stale).toBe(0)
    expect(on.token).toMatch(/^\d+$/)
    expect(off.stale).toBeGreaterThan(0)
  }, 120_000)
})
