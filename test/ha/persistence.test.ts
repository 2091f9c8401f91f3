/**
 * Persistence: sessions across a Redis restart with AOF everysec, AOF always and RDB (`save 1 1`),
 * both after a clean stop (SIGTERM: Redis fsyncs the AOF / writes the RDB on shutdown) and after a
 * crash (SIGKILL right after the last acknowledged write).
 *
 * Checked: sessions survive a clean restart and their TTLs keep counting down across it (Redis
 * stores absolute expiry times: PTTL after ~= PTTL before - elapsed); after a crash, how many of
 * N sessions written just before the SIGKILL survive. One parseable line per case:
 * `[persistence] mode=... case=... ...`.
 */
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { ioredisStore } from '../../src/store/ioredis.js'
import { demo } from '../helpers/demo.js'
import { figures, sessionKeyOf, sleep } from '../helpers/load.js'
import { startRedis, stopAll, type RedisServer } from '../helpers/redis.js'
import { CookieJar } from '../helpers/session-app.js'

afterAll(stopAll, 60_000)

const N = process.env.HA_LONG === '1' ? 1000 : 200
const DOWN_MS = 1500
const TTL_TOLERANCE_MS = 300

type Mode = 'aof-everysec' | 'aof-always' | 'rdb'

/** Writes `n` sessions through the demo app (anonymous pref writes plus logins); returns keys. */
async function writeSessions(server: RedisServer, n: number) {
  const store = ioredisStore({ url: server.url, logger: () => {} })
  const { call, login } = demo(store)
  const keys: { key: string; jar: CookieJar; value: string }[] = []
  for (let i = 0; i < n; i++) {
    const jar = new CookieJar()
    if (i % 10 === 0) expect((await login(jar)).status).toBe(303)
    const value = `v${i}`
    const res = await call(jar, 'PUT', '/api/prefs/p', { value })
    expect(res.status).toBe(200)
    keys.push({ key: (await sessionKeyOf(jar.cookies.get('session')!)).key, jar, value })
  }
  return { keys, store, call }
}

async function pttls(server: RedisServer, keys: string[]): Promise<number[]> {
  const r = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true })
  await r.connect()
  try {
    const p = r.pipeline()
    for (const k of keys) p.pttl(k)
    return ((await p.exec()) ?? []).map(([, v]) => Number(v))
  } finally {
    r.disconnect()
  }
}

describe.each(['aof-everysec', 'aof-always', 'rdb'] as const)('persistence %s', (mode: Mode) => {
  it('clean restart: every session survives, TTLs keep counting down', async () => {
    const server = await startRedis({ persistence: mode })
    const { keys, store } = await writeSessions(server, 50)
    await store.close()
    const names = keys.map((k) => k.key)
    const before = await pttls(server, names)
    const t0 = Date.now()
    await server.stop() // SIGTERM: AOF fsync / RDB save on shutdown
    await sleep(DOWN_MS)
    await server.start()
    const after = await pttls(server, names)
    const elapsed = Date.now() - t0
    const drift = after.map((a, i) => before[i]! - elapsed - a) // ~0 when the countdown continued
    const maxDrift = Math.max(...drift.map(Math.abs))
    const survivors = after.filter((a) => a > 0).length
    // the sessions still open through the app, with their data
    const store2 = ioredisStore({ url: server.url, logger: () => {} })
    const { call } = demo(store2)
    let readable = 0
    for (const k of keys) {
      const res = await call(k.jar, 'GET', '/api/prefs')
      if (res.status === 200 && ((await res.json()) as { p?: string }).p === k.value) readable++
    }
    await store2.close()
    figures('persistence', {
      mode,
      case: 'clean-restart',
      sessions: keys.length,
      survivors,
      readable,
      downMs: elapsed,
      maxTtlDriftMs: maxDrift,
    })
    expect(survivors).toBe(keys.length)
    expect(readable).toBe(keys.length)
    expect(maxDrift).toBeLessThan(TTL_TOLERANCE_MS + 100)
    await server.stop()
  }, 60_000)

  it(`crash (SIGKILL right after ${N} writes): count the survivors`, async () => {
    const server = await startRedis({ persistence: mode })
    const started = Date.now()
    const { keys, store } = await writeSessions(server, N)
    const writeMs = Date.now() - started
    await server.kill() // right after the last acknowledged write
    await store.close()
    await server.start()
    const after = await pttls(
      server,
      keys.map((k) => k.key),
    )
    const survivors = after.filter((a) => a > 0).length
    figures('persistence', {
      mode,
      case: 'crash',
      sessions: N,
      survivors,
      lost: N - survivors,
      writeMs,
    })
    if (mode === 'aof-always') expect(survivors).toBe(N) // fsync before every reply
    // no partial session: any survivor opens with its data (D2: never half-written)
    const store2 = ioredisStore({ url: server.url, logger: () => {} })
    const { call } = demo(store2)
    for (const [i, k] of keys.entries()) {
      if (!(after[i]! > 0)) continue
      const res = await call(k.jar, 'GET', '/api/prefs')
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ p: k.value })
    }
    await store2.close()
    await server.stop()
  }, 60_000)
})
