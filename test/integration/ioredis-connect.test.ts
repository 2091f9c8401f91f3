import { afterAll, describe, expect, it } from 'vitest'
import type { Cluster, Redis } from 'ioredis'
import { BatchingRedis } from '../../src/store/write-batching.js'
import { redisOptionsFromEnv } from '../../src/config/redis.js'
import { connectRedis, describeRedisTarget } from '../../src/store/ioredis-connect.js'
import {
  freePort,
  startCluster,
  startRedis,
  startSentinelGroup,
  stopAll,
} from '../helpers/redis.js'

afterAll(stopAll)

const TIMEOUT = 500
const MARGIN = 300
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs `fn`, returning how long it took to settle and whether it rejected. */
async function timed(
  fn: () => Promise<unknown>,
): Promise<{ ms: number; ok: boolean; error?: Error }> {
  const start = performance.now()
  try {
    await fn()
    return { ms: performance.now() - start, ok: true }
  } catch (error) {
    return { ms: performance.now() - start, ok: false, error: error as Error }
  }
}

/** Retries `fn` until it succeeds; returns the ms it took. */
async function untilOk(fn: () => Promise<unknown>, limitMs: number): Promise<number> {
  const start = Date.now()
  for (;;) {
    const r = await timed(fn)
    if (r.ok) return Date.now() - start
    if (Date.now() - start > limitMs)
      throw new Error(`still failing after ${limitMs} ms: ${r.error?.message}`)
    await sleep(50)
  }
}

const clients: (Redis | Cluster)[] = []
afterAll(() => clients.forEach((c) => c.disconnect()))
function track<T extends Redis | Cluster>(client: T): T {
  clients.push(client)
  return client
}

describe('redisOptionsFromEnv', () => {
  it('returns null when no target is set', () => {
    expect(redisOptionsFromEnv({})).toBeNull()
    expect(redisOptionsFromEnv({ REDIS_URL: '', REDIS_PASSWORD: 'x' })).toBeNull()
  })

  it('reads a URL with credentials, TLS and a timeout', () => {
    expect(
      redisOptionsFromEnv({
        REDIS_URL: 'rediss://app:s3cret@cache.example:6380/2',
        REDIS_USERNAME: 'other',
        REDIS_PASSWORD: 'pw',
        REDIS_TLS: '1',
        REDIS_TIMEOUT_MS: '250',
      }),
    ).toEqual({
      url: 'rediss://app:s3cret@cache.example:6380/2',
      username: 'other',
      password: 'pw',
      tls: true,
      commandTimeoutMs: 250,
    })
    expect(redisOptionsFromEnv({ REDIS_URL: 'redis://localhost', REDIS_TLS: '0' })).toEqual({
      url: 'redis://localhost',
    })
    expect(
      redisOptionsFromEnv({ REDIS_URL: 'redis://localhost', REDIS_AUTO_PIPELINING: '0' }),
    ).toEqual({ url: 'redis://localhost', autoPipelining: false })
  })

  it('reads sentinels with a name and a sentinel password', () => {
    expect(
      redisOptionsFromEnv({
        REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380,[::1]:26381',
        REDIS_SENTINEL_NAME: 'sessions',
        REDIS_SENTINEL_PASSWORD: 'spw',
      }),
    ).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'sessions',
      sentinelPassword: 'spw',
    })
    expect(redisOptionsFromEnv({ REDIS_SENTINELS: 'a:1' })).toEqual({
      sentinels: [{ host: 'a', port: 1 }],
      name: 'mymaster',
    })
  })

  it('reads cluster nodes', () => {
    expect(
      redisOptionsFromEnv({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', REDIS_PASSWORD: 'pw' }),
    ).toEqual({
      cluster: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      password: 'pw',
    })
  })

  it.each([
    [{ REDIS_URL: 'http://localhost:6379' }, /REDIS_URL/],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL/],
    [{ REDIS_URL: 'redis://localhost/abc' }, /REDIS_URL/],
    [{ REDIS_SENTINELS: 'host-without-port' }, /REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: 'a:1,b:99999' }, /REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: ' , ' }, /REDIS_SENTINELS/],
    [{ REDIS_CLUSTER_NODES: 'a:1,b' }, /REDIS_CLUSTER_NODES/],
    [{ REDIS_URL: 'redis://a', REDIS_TIMEOUT_MS: 'soon' }, /REDIS_TIMEOUT_MS/],
    [{ REDIS_URL: 'redis://a', REDIS_TIMEOUT_MS: '0' }, /REDIS_TIMEOUT_MS/],
    [{ REDIS_URL: 'redis://a', REDIS_TLS: 'maybe' }, /REDIS_TLS/],
    [{ REDIS_URL: 'redis://a', REDIS_AUTO_PIPELINING: 'fast' }, /REDIS_AUTO_PIPELINING/],
    [{ REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'a:1' }, /REDIS_URL.*REDIS_CLUSTER_NODES/],
  ])('rejects %o', (env, message) => {
    expect(() => redisOptionsFromEnv(env)).toThrow(message)
  })

  it('never echoes a malformed URL (it may hold a password)', () => {
    expect(() => redisOptionsFromEnv({ REDIS_URL: 'http://u:hunter2@h' })).toThrow(/^(?!.*hunter2)/)
  })
})

describe('describeRedisTarget', () => {
  it('describes each topology without passwords', () => {
    expect(describeRedisTarget({ url: 'redis://app:hunter2@h:6380/3' })).toBe(
      'redis://h:6380/3 as app',
    )
    expect(describeRedisTarget({ url: 'rediss://:hunter2@h' })).toBe('rediss://h (tls)')
    expect(
      describeRedisTarget({
        sentinels: [{ host: 'a', port: 1 }],
        sentinelPassword: 'x',
        password: 'y',
      }),
    ).toBe('sentinel mymaster via a:1')
    expect(
      describeRedisTarget({ cluster: [{ host: '::1', port: 7000 }], password: 'y', tls: true }),
    ).toBe('cluster [::1]:7000 (tls)')
  })
})

describe('connectRedis', () => {
  it('needs exactly one topology', () => {
    expect(() => connectRedis({})).toThrow(/exactly one/)
    expect(() => connectRedis({ url: 'redis://a', cluster: [{ host: 'a', port: 1 }] })).toThrow(
      /exactly one/,
    )
  })

  it('batches writes on a single server and Sentinel, not on Cluster, unless told', () => {
    const quiet = { logger: () => {} }
    const made = [
      connectRedis({ url: 'redis://127.0.0.1:1', ...quiet }),
      connectRedis({ url: 'redis://127.0.0.1:1', autoPipelining: false, ...quiet }),
      connectRedis({ sentinels: [{ host: '127.0.0.1', port: 1 }], ...quiet }),
      connectRedis({ cluster: [{ host: '127.0.0.1', port: 1 }], ...quiet }),
      connectRedis({ cluster: [{ host: '127.0.0.1', port: 1 }], autoPipelining: true, ...quiet }),
    ].map((c) => track(c))
    expect(made.map((c) => c instanceof BatchingRedis)).toEqual([true, false, true, false, false])
    // ioredis' own auto-pipelining only where asked for, on Cluster
    expect(made.map((c) => c.options.enableAutoPipelining)).toEqual([
      false,
      false,
      false,
      false,
      true,
    ])
  })

  it('a new connection sends no CLIENT SETINFO (Redis before 7.2 refuses it)', async () => {
    const server = await startRedis()
    await server.cli('CONFIG', 'RESETSTAT')
    const client = connectRedis({ url: server.url })
    await client.ping()
    client.disconnect()
    // MONITOR does not show a refused CLIENT SETINFO; the server's counters do: an error on
    // 7.0 (before 7.2), a call on 7.2+
    const stats = await server.cli('INFO', 'commandstats')
    expect(stats).toMatch(/cmdstat_ping:calls=1,/)
    expect(stats).not.toMatch(/cmdstat_client/)
    expect(await server.cli('INFO', 'errorstats')).not.toMatch(/errorstat_/)
  })

  it('rejects fast when the server was never reachable', async () => {
    const logs: string[] = []
    const client = track(
      connectRedis({ url: `redis://127.0.0.1:${await freePort()}`, logger: (m) => logs.push(m) }),
    )
    for (let i = 0; i < 3; i++) {
      const r = await timed(() => client.ping())
      expect(r.ok).toBe(false)
      expect(r.ms).toBeLessThan(TIMEOUT + MARGIN)
      await sleep(300)
    }
    expect(logs.length).toBe(1)
    expect(logs[0]).toMatch(/unreachable/)
  })

  it('bounds every command while a standalone server is down, and recovers on the same client', async () => {
    const server = await startRedis({ password: 'pw' })
    const logs: string[] = []
    const client = track(
      connectRedis({
        url: `redis://:pw@127.0.0.1:${server.port}/1`,
        commandTimeoutMs: TIMEOUT,
        logger: (m) => logs.push(m),
      }),
    )
    // Usable at once: commands before the first ready wait for it.
    expect(await client.set('k', 'v')).toBe('OK')

    await server.stop()
    const latencies: number[] = []
    const outageStart = Date.now()
    while (Date.now() - outageStart < 3000) {
      const r = await timed(() => client.set('late', '1'))
      expect(r.ok).toBe(false)
      latencies.push(r.ms)
      await sleep(100)
    }
    const worst = Math.max(...latencies)
    console.info(
      `standalone outage: ${latencies.length} commands, worst reject ${worst.toFixed(0)} ms`,
    )
    expect(worst).toBeLessThan(TIMEOUT + MARGIN)

    await server.start()
    const recovery = await untilOk(() => client.ping(), 5000)
    console.info(`standalone recovered ${recovery} ms after restart`)
    // A command the caller saw fail was not replayed after reconnecting.
    expect(await client.get('late')).toBeNull()
    expect(await server.cli('-n', '1', 'EXISTS', 'late')).toBe('0')
    // One line when it went down, one when it came back: not one per retry.
    expect(logs.filter((l) => l.includes('unreachable')).length).toBe(1)
    expect(logs.filter((l) => l.includes('connected again')).length).toBe(1)
    expect(logs.join('\n')).not.toContain('pw@')
  })

  it('follows a Sentinel failover', async () => {
    const group = await startSentinelGroup()
    const logs: string[] = []
    const client = track(
      connectRedis({
        sentinels: group.sentinelAddrs,
        name: group.name,
        commandTimeoutMs: TIMEOUT,
        logger: (m) => logs.push(m),
      }),
    )
    try {
      expect(await client.set('before', '1')).toBe('OK')
      await group.master.kill()
      const killedAt = Date.now()
      let worst = 0
      for (;;) {
        const r = await timed(() => client.set('after', '1'))
        worst = Math.max(worst, r.ms)
        if (r.ok) break
        expect(Date.now() - killedAt).toBeLessThan(15_000)
        await sleep(50)
      }
      const followed = Date.now() - killedAt
      console.info(
        `sentinel client wrote to the new master ${followed} ms after the kill; worst reject ${worst.toFixed(0)} ms`,
      )
      expect(worst).toBeLessThan(TIMEOUT + MARGIN)
      const now = await group.currentMaster()
      expect(now.port).not.toBe(group.master.port)
      const newMaster = group.replicas.find((r) => r.port === now.port)!
      expect(await newMaster.cli('MGET', 'before', 'after')).toBe('1\n1')
      expect(logs.length).toBeLessThanOrEqual(2)
    } finally {
      client.disconnect()
      await group.stop()
    }
  })

  it('reads and writes keys on every Cluster master, and follows a failover', async () => {
    const cluster = await startCluster()
    const client = track(
      connectRedis({
        cluster: cluster.startupNodes.slice(0, 2),
        commandTimeoutMs: TIMEOUT,
        logger: () => {},
      }),
    )
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `key:${i}`)
      for (const key of keys) expect(await client.set(key, key.toUpperCase())).toBe('OK')
      for (const key of keys) expect(await client.get(key)).toBe(key.toUpperCase())
      for (const master of cluster.masters) {
        expect(Number(await master.cli('DBSIZE'))).toBeGreaterThan(0)
      }

      // Kill the master of one key: commands stay bounded, then follow the promoted replica.
      const slot = await cluster.nodes[0]!.cli('CLUSTER', 'KEYSLOT', 'key:0')
      const owners = await Promise.all(
        cluster.masters.map((m) => m.cli('CLUSTER', 'COUNTKEYSINSLOT', slot)),
      )
      await cluster.masters[owners.indexOf('1')]!.kill()
      const killedAt = Date.now()
      let worst = 0
      for (;;) {
        const r = await timed(() => client.set('key:0', 'after'))
        worst = Math.max(worst, r.ms)
        if (r.ok) break
        expect(Date.now() - killedAt).toBeLessThan(15_000)
        await sleep(50)
      }
      console.info(
        `cluster client wrote after failover ${Date.now() - killedAt} ms after the kill; worst reject ${worst.toFixed(0)} ms`,
      )
      expect(worst).toBeLessThan(TIMEOUT + MARGIN)
      expect(await client.get('key:0')).toBe('after')
    } finally {
      client.disconnect()
      await cluster.stop()
    }
  })
})
