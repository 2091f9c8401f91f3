/**
 * The gateway over a Sentinel group while the master is killed: a bounded loop of SET/GET
 * requests every 20 ms for 12 s. Requests during the switch must fail visibly (an error status
 * and JSON body, never a hang past the client timeout), then succeed again on the new master.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis as Upstash } from '@upstash/redis'
import type { Cluster, Redis } from 'ioredis'
import { createGateway, listen, type RunningGateway } from '../../src/gateway/index.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { startSentinelGroup, stopAll, type SentinelGroup } from '../helpers/redis.js'

const TOKEN = 'failover-token-0123456789'
const CLIENT_TIMEOUT_MS = 3000
const RUN_MS = 12_000
const KILL_AT_MS = 2000

interface Sample {
  at: number
  ms: number
  ok: boolean
  status: number | 'hang' | 'network'
  error?: string
}

let group: SentinelGroup
let redis: Redis | Cluster
let gw: RunningGateway

beforeAll(async () => {
  group = await startSentinelGroup({ replicas: 1, sentinels: 3, downAfterMs: 1000 })
  redis = connectRedis({
    sentinels: group.sentinelAddrs,
    name: group.name,
    stringNumbers: true,
    logger: () => {},
  })
  gw = await listen(createGateway({ redis, tokens: [TOKEN], timeoutMs: 2000 }), { port: 0 })
})

afterAll(async () => {
  await gw?.stop()
  redis?.disconnect()
  await stopAll()
})

/** One POST / with a client-side timeout; never throws. */
async function request(
  command: unknown[],
  started: number,
): Promise<Sample & { result?: unknown }> {
  const t0 = Date.now()
  try {
    const res = await fetch(gw.url + '/', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(command),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    })
    const body = (await res.json()) as { result?: unknown; error?: string }
    return {
      at: t0 - started,
      ms: Date.now() - t0,
      ok: res.status === 200,
      status: res.status,
      ...body,
    }
  } catch (error) {
    const hang = (error as Error).name === 'TimeoutError'
    return {
      at: t0 - started,
      ms: Date.now() - t0,
      ok: false,
      status: hang ? 'hang' : 'network',
      error: String(error),
    }
  }
}

describe('gateway over Sentinel', () => {
  it('fails visibly while the master is killed, then serves from the new master', async () => {
    const oldMaster = await group.currentMaster()
    const started = Date.now()
    const samples: Sample[] = []
    let mismatches = 0
    let killAt = Infinity
    const killed = new Promise<void>((resolve) =>
      setTimeout(() => {
        killAt = Date.now() - started
        void group.master.kill().then(resolve)
      }, KILL_AT_MS),
    )
    for (let i = 0; Date.now() - started < RUN_MS; i++) {
      const set = await request(['SET', 'fo:k', String(i)], started)
      samples.push(set)
      if (set.ok) {
        const get = await request(['GET', 'fo:k'], started)
        samples.push(get)
        if (get.ok && get.result !== String(i)) mismatches++
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    await killed

    const failures = samples.filter((s) => !s.ok)
    const afterKill = samples.filter((s) => s.at >= killAt)
    const lastFailure = failures.at(-1)
    const recovered = lastFailure ? afterKill.find((s) => s.ok && s.at > lastFailure.at) : undefined
    const window = failures.length ? recovered!.at - failures[0]!.at : 0
    const maxMs = Math.max(...samples.map((s) => s.ms))
    const statuses = [...new Set(failures.map((s) => s.status))]
    console.log(
      `[failover] ${samples.length} requests, ${failures.length} failed (statuses ${statuses.join(', ') || 'none'}); ` +
        `first failure at ${failures[0]?.at ?? '-'} ms, recovered at ${recovered?.at ?? '-'} ms ` +
        `(master killed at ${killAt} ms): unavailable for ${window} ms; slowest request ${maxMs} ms`,
    )
    for (const s of failures.slice(0, 3)) console.log(`[failover] e.g. ${s.status} ${s.error}`)

    // Nothing hung, nothing failed without an HTTP status and a JSON error.
    expect(maxMs).toBeLessThan(CLIENT_TIMEOUT_MS)
    for (const s of failures) {
      expect([400, 503, 504]).toContain(s.status)
      expect(s.error).toMatch(/^[A-Z]+ /)
    }
    // The switch was noticed, and ended.
    expect(failures.length).toBeGreaterThan(0)
    expect(failures.every((s) => s.at + s.ms >= killAt)).toBe(true)
    expect(recovered).toBeDefined()
    expect(window).toBeLessThan(9000)
    expect(samples.filter((s) => s.at > recovered!.at).every((s) => s.ok)).toBe(true)
    expect(mismatches).toBe(0)
    expect((await group.currentMaster()).port).not.toBe(oldMaster.port)

    // The official client works against the new master.
    const u = new Upstash({ url: gw.url, token: TOKEN })
    await u.set('fo:after', { ok: true })
    expect(await u.get('fo:after')).toEqual({ ok: true })
  })
})
