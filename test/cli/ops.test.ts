/**
 * The ops CLI as users run it (a child process: arguments, stdin/stdout, exit codes) against
 * real redis-server processes: keygen, bad arguments, Redis down, export/import of 10,000
 * sessions (standalone to standalone and to a 3+3 Cluster), corrupt lines, per-user items (a
 * TOTP enrolment made through the demo, claims, hit counters) across export, FLUSHALL and import
 * on standalone and Cluster, stats, sessions list/revoke and sweep on standalone and Cluster,
 * and rotation aliases (a session rotated through the middleware, inside its grace window) in
 * export, import (also of an older file holding an alias line), stats and sweep.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session, type SessionEnv } from '../../src/index.js'
import { encodeSession } from '../../src/store/redis/codec.js'
import { ioredisStore } from '../../src/store/ioredis.js'
import {
  parseKeyName,
  sessionKeyName,
  userIndexKeyName,
  userItemKeyName,
} from '../../src/store/redis/layout.js'
import { totp } from '../../src/totp.js'
import { demo } from '../helpers/demo.js'
import {
  startCluster,
  startRedis,
  startSentinelGroup,
  stopAll,
  type RedisCluster,
  type RedisServer,
} from '../helpers/redis.js'
import { CookieJar, KEY_A, fakeClock, send } from '../helpers/session-app.js'

afterAll(stopAll)

const dir = mkdtempSync(join(tmpdir(), 'hrs-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the CLI; resolves with its exit code and output (never rejects). */
function cli(
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/ops/main.ts', ...args],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, REDIS_URL: '', NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
        resolve({ code, stdout, stderr, ms: Date.now() - started })
      },
    )
    if (input !== undefined) child.stdin!.end(input)
    else child.stdin!.end()
  })
}

const ID = (n: number) => `s${n.toString(36)}`.padEnd(43, 'A')

/** Seeds sessions straight into Redis in the store's layout: half anonymous, half over `users` users. */
async function seed(client: Redis | Cluster, count: number, users: number, prefix = 'sess:') {
  const now = Date.now()
  for (let start = 0; start < count; start += 500) {
    const batch = []
    for (let n = start; n < Math.min(count, start + 500); n++) {
      const uid = n % 2 === 0 ? undefined : `user-${Math.floor(n / 2) % users}`
      const expiresAt = now + 600_000 + n
      const fields = encodeSession({
        fields: { count: String(n), name: JSON.stringify(`näme ${n} 🎉`) },
        meta: {
          createdAt: now,
          lastSeenAt: now,
          expiresAt,
          absoluteExpiresAt: now + 3_600_000,
          uid,
        },
      })
      const key = sessionKeyName(prefix, { id: ID(n), uid })
      batch.push(
        (async () => {
          await client.hset(key, fields)
          await client.pexpire(key, expiresAt - now)
          if (uid !== undefined) {
            await client.zadd(userIndexKeyName(prefix, uid), expiresAt, ID(n))
            await client.pexpire(userIndexKeyName(prefix, uid), 3_600_000)
          }
        })(),
      )
    }
    await Promise.all(batch)
  }
}

/** Parses an export into key -> line, for comparison. */
function byKey(
  jsonl: string,
): Map<string, { fields: Record<string, string>; pttl: number; uid?: string }> {
  const out = new Map()
  for (const line of jsonl.split('\n').filter(Boolean)) {
    const v = JSON.parse(line)
    out.set(v.key, v)
  }
  return out
}

describe('cli without Redis', () => {
  it('keygen prints kid:secret (32 bytes base64url), or JSON', async () => {
    const plain = await cli(['keygen', '--kid', 'k1'])
    expect(plain.code).toBe(0)
    expect(plain.stdout.trim()).toMatch(/^k1:[A-Za-z0-9_-]{43}$/)
    const json = JSON.parse((await cli(['keygen', '--json'])).stdout)
    expect(json.kid).toMatch(/^k\d{8}$/)
    expect(Buffer.from(json.secret, 'base64url')).toHaveLength(32)
  })

  it('bad arguments exit 2 with a message', async () => {
    for (const args of [
      ['bogus'],
      ['export', '--no-such-flag'],
      ['sessions', 'list', '--redis-url', 'redis://127.0.0.1:1'],
      ['import', '--on-error', 'maybe', '--redis-url', 'redis://127.0.0.1:1'],
      ['sweep', '--max-keys', '0', '--redis-url', 'redis://127.0.0.1:1'],
      ['stats'],
      ['stats', '--redis-url', 'redis://a', '--cluster', 'b:1'],
    ]) {
      const r = await cli(args)
      expect({ args, code: r.code }).toEqual({ args, code: 2 })
      expect(r.stderr).toMatch(/error/)
    }
  })

  it('every Redis command exits 1 quickly with a clear message when Redis is down', async () => {
    for (const args of [
      ['export'],
      ['import'],
      ['stats'],
      ['sessions', 'list', '--user', 'a'],
      ['sessions', 'revoke', '--user', 'a'],
      ['sweep'],
    ]) {
      const r = await cli([...args, '--redis-url', 'redis://127.0.0.1:1'], '')
      expect({ args, code: r.code }).toEqual({ args, code: 1 })
      expect(r.stderr).toContain('cannot reach Redis at redis://127.0.0.1:1')
      expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
      expect(r.ms).toBeLessThan(10_000)
    }
  })
})

describe('export and import', () => {
  const N = 10_000
  let source: RedisServer
  let target: RedisServer
  let cluster: RedisCluster
  let exported: string
  beforeAll(async () => {
    ;[source, target, cluster] = await Promise.all([startRedis(), startRedis(), startCluster()])
    const client = new Redis({ port: source.port })
    await seed(client, N, 500)
    client.disconnect()
  }, 120_000)

  it('exports every session with its TTL as JSON lines (SCAN, no KEYS)', async () => {
    const file = join(dir, 'sessions.jsonl')
    const r = await cli(['export', '--redis-url', source.url, '--out', file])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`exported ${N} sessions`))
    exported = readFileSync(file, 'utf8')
    const lines = byKey(exported)
    expect(lines.size).toBe(N)
    const sample = lines.get(sessionKeyName('sess:', { id: ID(7), uid: 'user-3' }))!
    expect(sample.fields.name).toBe(JSON.stringify('näme 7 🎉'))
    expect(sample.pttl).toBeGreaterThan(500_000)
    console.log(`cli export: ${N} sessions, ${r.stderr.trim()}`)
  }, 120_000)

  for (const kind of ['standalone', 'cluster'] as const) {
    it(`imports all ${N} into a ${kind} with fields, TTLs and indexes intact`, async () => {
      const where =
        kind === 'standalone'
          ? ['--redis-url', target.url]
          : ['--cluster', cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(',')]
      const r = await cli(['import', ...where], exported)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toMatch(new RegExp(`imported ${N}, skipped 0, errors 0`))
      console.log(`cli import into ${kind}: ${r.stderr.trim()}`)
      // export again from the target: nothing lost, fields byte for byte, TTLs counted down
      const again = await cli(['export', ...where])
      const before = byKey(exported)
      const after = byKey(again.stdout)
      expect(after.size).toBe(N)
      for (const [key, line] of before) {
        const got = after.get(key)
        expect(got?.fields, key).toEqual(line.fields)
        expect(got!.pttl).toBeLessThanOrEqual(line.pttl)
        expect(line.pttl - got!.pttl).toBeLessThan(60_000)
      }
      // indexes rebuilt: every user lists exactly their sessions, scored by expiry
      const client =
        kind === 'standalone' ? new Redis({ port: target.port }) : new Cluster(cluster.startupNodes)
      try {
        for (const u of [0, 1, 7, 499]) {
          const members = await (client as Redis).zrange(
            userIndexKeyName('sess:', `user-${u}`),
            '0',
            '-1',
          )
          const expected = [...before.values()].filter((l) => l.uid === `user-${u}`).length
          expect(members).toHaveLength(expected)
        }
      } finally {
        client.disconnect()
      }
      // a second import keeps what is there unless --replace
      const twice = await cli(['import', ...where], exported.split('\n').slice(0, 10).join('\n'))
      expect(twice.stderr).toMatch(/imported 0, skipped 10, errors 0/)
      const replaced = await cli(
        ['import', ...where, '--replace'],
        exported.split('\n').slice(0, 10).join('\n'),
      )
      expect(replaced.stderr).toMatch(/imported 10, skipped 0, errors 0/)
    }, 180_000)
  }

  it('a corrupt line names its line number; abort stops before later lines, skip goes on', async () => {
    const fresh = await startRedis()
    const lines = exported.split('\n').filter(Boolean).slice(0, 5)
    lines[2] = '{"v":1,"key":"sess:broken"'
    const text = lines.join('\n') + '\n'
    const abort = await cli(['import', '--redis-url', fresh.url], text)
    expect(abort.code).toBe(1)
    expect(abort.stderr).toContain('line 3: not JSON')
    const probe = new Redis({ port: fresh.port })
    expect(await probe.dbsize()).toBeLessThanOrEqual(2 + 2) // lines 1-2 (and their indexes) only
    const key4 = JSON.parse(lines[3]!).key
    expect(await probe.exists(key4)).toBe(0)
    const skip = await cli(['import', '--redis-url', fresh.url, '--on-error', 'skip'], text)
    expect(skip.code).toBe(0)
    expect(skip.stderr).toContain('line 3: not JSON')
    expect(skip.stderr).toMatch(/errors 1/)
    expect(await probe.exists(key4)).toBe(1)
    const bad = await cli(
      ['import', '--redis-url', fresh.url, '--on-error', 'skip'],
      '{"v":1,"key":"x","id":"y","pttl":1,"at":1,"fields":{}}\n[]\n',
    )
    expect(bad.stderr).toContain('line 1: "key" does not match the session layout')
    expect(bad.stderr).toContain('line 2: not a JSON object')
    probe.disconnect()
  }, 60_000)
})

describe('parseKeyName', () => {
  it('knows sessions, user indexes and per-user items; anything else is not ours', () => {
    const id = ID(1)
    expect(parseKeyName('sess:', `sess:${id}`)).toEqual({ kind: 'session', key: { id } })
    expect(parseKeyName('sess:', `sess:{a%3Ab}:${id}`)).toEqual({
      kind: 'session',
      key: { id, uid: 'a:b' },
    })
    expect(parseKeyName('sess:', 'sess:{a%3Ab}')).toEqual({ kind: 'index', uid: 'a:b' })
    expect(parseKeyName('sess:', userItemKeyName('sess:', 'a:b{}', 'v', 'totp'))).toEqual({
      kind: 'item',
      uid: 'a:b{}',
      item: 'v',
      name: 'totp',
    })
    expect(parseKeyName('sess:', 'sess:{a}:c:totp-step:123')).toMatchObject({
      item: 'c',
      name: 'totp-step:123',
    })
    // item names may hold any character
    expect(parseKeyName('sess:', 'sess:{a}:h:we{ird} na:me\n')).toMatchObject({
      kind: 'item',
      uid: 'a',
      item: 'h',
      name: 'we{ird} na:me\n',
    })
    for (const foreign of [
      'other:{a}:v:x',
      'sess:{a}:x:name',
      'sess:{a}:v:',
      'sess:{a}:v',
      'sess:{%E0}:v:x',
      'sess:{a}{b}:v:x',
      'sess:short',
      `sess:{a}:${id}x`,
    ]) {
      expect({ foreign, parsed: parseKeyName('sess:', foreign) }).toEqual({ foreign, parsed: null })
    }
  })
})

describe('per-user items: a TOTP enrolment, claims and hit counters', () => {
  const codes = totp({ issuer: 'test' })
  const clock = fakeClock(Date.now())
  const file = join(dir, 'items.jsonl')
  let server: RedisServer
  let cluster: RedisCluster
  let store: ReturnType<typeof ioredisStore>
  let raw: Redis
  let secret: string
  let confirmCode: string
  type Line = Record<string, unknown> & { key: string; pttl: number; type?: string }
  let items: Line[]
  let sessionLine: Line

  /** A 6-digit code that none of the accepted steps (±1) produces. */
  const wrongCode = (now: number) => {
    const valid = [-1, 0, 1].map((d) => codes.generate(secret, now + d * 30_000))
    let n = 0
    while (valid.includes(String(n).padStart(6, '0'))) n++
    return String(n).padStart(6, '0')
  }
  const verify = async (d: ReturnType<typeof demo>, jar: CookieJar, code: string) =>
    (await d.call(jar, 'POST', '/api/2fa/verify', { code })).json()

  beforeAll(async () => {
    ;[server, cluster] = await Promise.all([startRedis(), startCluster()])
    raw = new Redis({ port: server.port })
    // the real path: the demo over the ioredis store writes the sealed secret, a claim, a counter
    store = ioredisStore({ url: server.url })
    // without the lockout's counter: these three items are the fixture of the tests below
    const d = demo(store, { now: clock.now, twoFactor: { lockout: false } })
    const jar = new CookieJar()
    await d.login(jar, 'alice')
    ;({ secret } = (await (
      await d.call(jar, 'POST', '/api/2fa/enrol', { password: 'alice-password' })
    ).json()) as {
      secret: string
    })
    confirmCode = codes.generate(secret, clock.now())
    const confirmed = await d.call(jar, 'POST', '/api/2fa/confirm', { code: confirmCode })
    expect(await confirmed.json()).toEqual({ ok: true })
    expect(await verify(d, jar, wrongCode(clock.now()))).toEqual({ ok: false, reason: 'invalid' })
  }, 120_000)
  afterAll(async () => {
    await store.close()
    raw.disconnect()
  })

  it('export writes the sealed TOTP secret as stored, the claim and the counter, with TTLs', async () => {
    const r = await cli(['export', '--redis-url', server.url, '--out', file])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/exported 1 sessions and 3 user items/)
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line)
    items = lines.filter((l) => l.type === 'item')
    // session lines keep the original format: no "type", the same properties
    ;[sessionLine] = lines.filter((l) => l.type === undefined) as [Line]
    expect(Object.keys(sessionLine).sort()).toEqual([
      'at',
      'fields',
      'id',
      'key',
      'pttl',
      'uid',
      'v',
    ])
    const value = items.find((l) => l.item === 'v')!
    expect(value).toEqual({
      v: 1,
      type: 'item',
      key: userItemKeyName('sess:', 'alice', 'v', 'totp'),
      uid: 'alice',
      item: 'v',
      name: 'totp',
      value: await raw.get(value.key),
      pttl: -1,
      at: expect.any(Number),
    })
    expect(value.value).not.toContain(secret) // sealed by the app, copied without opening
    expect(String(value.value).split('.')).toHaveLength(5) // compact JWE
    const claim = items.find((l) => l.item === 'c')!
    expect(claim).toMatchObject({ uid: 'alice', name: expect.stringMatching(/^totp-step:\d+$/) })
    expect(claim.value).toBe('1')
    expect(claim.pttl).toBeGreaterThan(60_000)
    expect(claim.pttl).toBeLessThanOrEqual(120_000) // (2 * window + 2) steps of 30 s
    const counter = items.find((l) => l.item === 'h')!
    expect(counter).toMatchObject({ uid: 'alice', name: 'totp-failures', value: '1' })
    expect(counter.pttl).toBeGreaterThan(240_000)
    expect(counter.pttl).toBeLessThanOrEqual(300_000)
  })

  it('survives FLUSHALL and import: TTLs kept, existing keys kept unless --replace, the secret still verifies', async () => {
    await raw.flushall()
    expect(await raw.dbsize()).toBe(0)
    const r = await cli(['import', '--redis-url', server.url, '--in', file])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(
      /imported 4, skipped 0, errors 0 in [\d.]+ s \(user items: 3 imported, 0 skipped\)/,
    )
    for (const l of items) {
      expect(await raw.get(l.key)).toBe(l.value)
      const pttl = await raw.pttl(l.key)
      if (l.pttl === -1) expect(pttl).toBe(-1)
      else {
        expect(pttl).toBeLessThanOrEqual(l.pttl)
        expect(pttl).toBeGreaterThan(l.pttl - 30_000)
      }
    }
    // kept unless --replace, like sessions
    const valueKey = userItemKeyName('sess:', 'alice', 'v', 'totp')
    await raw.set(valueKey, 'newer')
    const again = await cli(['import', '--redis-url', server.url, '--in', file])
    expect(again.stderr).toMatch(/imported 0, skipped 4, errors 0 .*3 skipped\)/)
    expect(await raw.get(valueKey)).toBe('newer')
    const replaced = await cli(['import', '--redis-url', server.url, '--in', file, '--replace'])
    expect(replaced.stderr).toMatch(/imported 4, skipped 0, errors 0/)
    expect(await raw.get(valueKey)).toBe(items.find((l) => l.item === 'v')!.value)
    // the restored user: the secret opens and verifies, the used code stays used
    const d = demo(store, { now: clock.now })
    const jar = new CookieJar()
    await d.login(jar, 'alice')
    expect(await verify(d, jar, confirmCode)).toEqual({ ok: false, reason: 'replayed' })
    clock.advance(60_000)
    expect(await verify(d, jar, codes.generate(secret, clock.now()))).toEqual({ ok: true })
    const failures = await raw.get(userItemKeyName('sess:', 'alice', 'h', 'totp-failures'))
    expect(failures).toBe('2') // the restored failure plus the replay
  })

  it('on a 3+3 Cluster: imported into the user slot, exported back unchanged, the secret verifies', async () => {
    const where = ['--cluster', cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(',')]
    const r = await cli(['import', ...where, '--in', file])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/imported 4, skipped 0, errors 0 .*\(user items: 3 imported/)
    const again = await cli(['export', ...where])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toMatch(/exported 1 sessions and 3 user items/)
    const back = byKey(again.stdout) as unknown as Map<string, Line>
    for (const l of items) {
      const got = back.get(l.key)!
      const { pttl, at: _at, ...rest } = l
      expect(got, l.key).toMatchObject(rest)
      if (pttl === -1) expect(got.pttl).toBe(-1)
      else expect(got.pttl).toBeLessThanOrEqual(pttl)
    }
    const clusterStore = ioredisStore({ cluster: cluster.startupNodes })
    try {
      const d = demo(clusterStore, { now: clock.now })
      const jar = new CookieJar()
      await d.login(jar, 'alice')
      clock.advance(60_000)
      expect(await verify(d, jar, codes.generate(secret, clock.now()))).toEqual({ ok: true })
    } finally {
      await clusterStore.close()
    }
  }, 60_000)

  it('a malformed or foreign item line names its line number; abort stops, skip goes on', async () => {
    const fresh = await startRedis()
    const probe = new Redis({ port: fresh.port })
    try {
      const of = (item: string) => items.find((l) => l.item === item)!
      const lines = [
        { ...of('v'), at: 0 }, // no TTL: never expires in transit
        { ...of('v'), item: 'x' },
        { ...of('v'), uid: 'bob' },
        { ...of('h'), value: 'many' },
        { ...of('c'), pttl: -5 },
        { ...of('v'), value: 42 },
        { v: 1, type: 'blob', key: of('v').key },
        { ...of('v'), key: `other:${of('v').key}` },
        { ...of('h'), at: 0 }, // expired in transit: skipped, not an error
        { ...sessionLine, type: 'session' }, // accepted as a session line
        of('c'),
      ].map((l) => JSON.stringify(l))
      const text = lines.join('\n') + '\n'
      const abort = await cli(['import', '--redis-url', fresh.url], text)
      expect(abort.code).toBe(1)
      expect(abort.stderr).toContain('line 2: "item" must be "h", "c" or "v"')
      expect(await probe.dbsize()).toBe(1) // line 1 only
      const skip = await cli(['import', '--redis-url', fresh.url, '--on-error', 'skip'], text)
      expect(skip.code, skip.stderr).toBe(0)
      for (const expected of [
        'line 2: "item" must be "h", "c" or "v"',
        'line 3: "key" does not match the item layout',
        'line 4: a hit counter ("item": "h") must hold an integer',
        'line 5: "pttl" must be -1',
        'line 6: "value" must be a string',
        'line 7: unknown line "type"',
        'line 8: "key" does not match the item layout',
      ]) {
        expect(skip.stderr).toContain(expected)
      }
      expect(skip.stderr).not.toMatch(/line (1|9|10|11):/)
      expect(skip.stderr).toMatch(
        /imported 2, skipped 2, errors 7 .*\(user items: 1 imported, 2 skipped\)/,
      )
      expect(await probe.get(of('c').key)).toBe('1')
      expect(await probe.exists(of('h').key)).toBe(0)
      expect(await probe.exists(sessionLine.key)).toBe(1)
      expect(skip.stderr).not.toMatch(/\n\s+at /) // no stack trace
    } finally {
      probe.disconnect()
      await fresh.stop()
    }
  }, 60_000)
})

describe('stats, sessions, sweep', () => {
  for (const kind of ['standalone', 'sentinel', 'cluster'] as const) {
    describe(kind, () => {
      let where: string[]
      let client: Redis | Cluster
      let stop: () => Promise<void>
      /** The masters' real addresses, as stats must label them. */
      let masters: string[]
      beforeAll(async () => {
        if (kind === 'standalone') {
          const server = await startRedis()
          where = ['--redis-url', server.url]
          client = new Redis({ port: server.port })
          masters = [`${server.host}:${server.port}`]
          stop = () => server.stop()
        } else if (kind === 'sentinel') {
          const group = await startSentinelGroup({ replicas: 1, sentinels: 1 })
          const sentinels = group.sentinelAddrs.map((a) => `${a.host}:${a.port}`).join(',')
          where = ['--sentinels', sentinels, '--sentinel-name', group.name]
          client = new Redis({ port: group.master.port, host: group.master.host })
          masters = [`${group.master.host}:${group.master.port}`]
          stop = () => group.stop()
        } else {
          const c = await startCluster()
          where = ['--cluster', c.startupNodes.map((n) => `${n.host}:${n.port}`).join(',')]
          client = new Cluster(c.startupNodes)
          masters = c.masters.map((m) => `${m.host}:${m.port}`)
          stop = () => c.stop()
        }
        await seed(client, 200, 20)
      }, 120_000)
      afterAll(async () => {
        client.disconnect()
        await stop()
      })

      it('stats reports sessions, users, memory per session, nodes', async () => {
        const r = await cli(['stats', ...where, '--json'])
        expect(r.code, r.stderr).toBe(0)
        const s = JSON.parse(r.stdout)
        expect(s).toMatchObject({ sessions: 200, anonymousSessions: 100, users: 20 })
        expect(s.memoryPerSession.averageBytes).toBeGreaterThan(50)
        expect(s.nodes.length).toBe(kind === 'cluster' ? 3 : 1)
        expect(s.nodes.every((n: { role: string }) => n.role === 'master')).toBe(true)
        // the real addresses: through Sentinel too (it used to say localhost:6379)
        const addresses = s.nodes.map((n: { address: string }) => n.address)
        expect(new Set(addresses)).toEqual(new Set(masters))
        const human = await cli(['stats', ...where])
        expect(human.stdout).toMatch(/sessions 200 \(100 anonymous\), users 20/)
      })

      it('sessions list and revoke (one, a wrong one, all)', async () => {
        const list = JSON.parse(
          (await cli(['sessions', 'list', '--user', 'user-3', ...where, '--json'])).stdout,
        )
        expect(list).toHaveLength(5)
        const one = await cli([
          'sessions',
          'revoke',
          '--user',
          'user-3',
          '--session',
          list[0].id,
          ...where,
        ])
        expect(one.code).toBe(0)
        expect(one.stdout).toContain('revoked 1 session(s) of user-3')
        const wrong = await cli([
          'sessions',
          'revoke',
          '--user',
          'user-3',
          '--session',
          list[0].id,
          ...where,
        ])
        expect(wrong.code).toBe(1)
        expect(wrong.stderr).toContain('no live session')
        const all = JSON.parse(
          (await cli(['sessions', 'revoke', '--user', 'user-3', ...where, '--json'])).stdout,
        )
        expect(all).toEqual({ user: 'user-3', removed: 4 })
        expect(
          JSON.parse(
            (await cli(['sessions', 'list', '--user', 'user-3', ...where, '--json'])).stdout,
          ),
        ).toEqual([])
      })

      it('sweep removes stale index members, bounded and resumable', async () => {
        // delete the hashes of user-5's and user-7's sessions behind the index's back
        let deleted = 0
        for (const u of [5, 7]) {
          for (const id of await (client as Redis).zrange(
            userIndexKeyName('sess:', `user-${u}`),
            '0',
            '-1',
          )) {
            deleted += await client.del(sessionKeyName('sess:', { id, uid: `user-${u}` }))
          }
        }
        expect(deleted).toBe(10)
        let cursor: string | undefined
        let removed = 0
        let runs = 0
        do {
          const r = await cli([
            'sweep',
            ...where,
            '--max-keys',
            '3',
            '--count',
            '10',
            '--json',
            ...(cursor ? ['--cursor', cursor] : []),
          ])
          expect(r.code, r.stderr).toBe(0)
          const out = JSON.parse(r.stdout)
          expect(out.indexesScanned).toBeLessThanOrEqual(3 + 10)
          removed += out.membersRemoved
          cursor = out.cursor || undefined
          runs++
        } while (cursor && runs < 50)
        expect(runs).toBeGreaterThan(1)
        expect(removed).toBe(10)
        expect(await client.exists(userIndexKeyName('sess:', 'user-5'))).toBe(0)
        expect(await client.zcard(userIndexKeyName('sess:', 'user-6'))).toBe(5)
        const bad = await cli(['sweep', ...where, '--cursor', 'not-a-cursor'])
        expect(bad.code).toBe(2)
      })
    })
  }
})

describe('rotation aliases: export, import, stats and sweep inside the grace window', () => {
  const clock = fakeClock(Date.now())
  const file = join(dir, 'rotating.jsonl')
  const index = userIndexKeyName('sess:', 'alice')
  let server: RedisServer
  let where: string[]
  let raw: Redis
  let store: ReturnType<typeof ioredisStore>
  let app: Hono<SessionEnv>
  let jar: CookieJar
  /** The cookie from before the rotation: it names the alias. */
  let previousCookie: string
  let aliasKey: string
  let sessionKey: string
  /** The alias as an export written before aliases were left out had it. */
  let oldAliasLine: string

  /** Session hashes of alice: the live one(s) and the alias(es), told apart by `$mv`. */
  const aliceKeys = async () => {
    const out = { sessions: [] as string[], aliases: [] as string[] }
    let cursor = '0'
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', 'sess:{alice}:*', 'COUNT', 100)
      cursor = next
      for (const key of keys) {
        if (parseKeyName('sess:', key)?.kind !== 'session') continue
        if ((await raw.hexists(key, '$mv')) === 1) out.aliases.push(key)
        else out.sessions.push(key)
      }
    } while (cursor !== '0')
    return out
  }
  const me = async (cookie: string) =>
    app.request('http://localhost/me', {
      headers: { Cookie: cookie, Origin: 'http://localhost' },
    })
  /** A request more than `rotateEvery` after the last rotation: the middleware rotates. */
  const rotate = async () => {
    clock.advance(2000)
    const before = jar.header()
    const res = await send(app, jar, 'GET', '/me')
    expect(res.status).toBe(200)
    expect(jar.header()).not.toBe(before)
    return before
  }

  beforeAll(async () => {
    server = await startRedis()
    where = ['--redis-url', server.url]
    raw = new Redis({ port: server.port })
    store = ioredisStore({ url: server.url })
    app = new Hono<SessionEnv>()
    app.use(session({ keys: [KEY_A], store, now: clock.now, rotateEvery: 1, rotationGrace: 600 }))
    app.post('/login', (c) => {
      c.get('session').authenticate('alice', { roles: ['user'] })
      c.get('session').set('cart', ['book'])
      return c.json({ ok: true })
    })
    app.get('/me', async (c) => {
      const info = await c.get('session').info()
      if (!info) return c.json({ error: 'no session' }, 401)
      return c.json({ user: info.userId, cart: await c.get('session').get('cart') })
    })
    jar = new CookieJar()
    expect((await send(app, jar, 'POST', '/login')).status).toBe(200)
    previousCookie = await rotate()
    const keys = await aliceKeys()
    expect(keys.sessions).toHaveLength(1)
    expect(keys.aliases).toHaveLength(1)
    ;[sessionKey] = keys.sessions as [string]
    ;[aliasKey] = keys.aliases as [string]
    const alias = await raw.hgetall(aliasKey)
    expect(Object.keys(alias).sort()).toEqual(['$e', '$mv'])
    expect(sessionKeyName('sess:', { id: alias.$mv!, uid: 'alice' })).toBe(sessionKey)
    expect(await raw.pttl(aliasKey)).toBeGreaterThan(500_000)
    // the previous token still reaches the session: the grace window is on
    expect(await (await me(previousCookie)).json()).toEqual({ user: 'alice', cart: ['book'] })
    const id = parseKeyName('sess:', aliasKey)
    oldAliasLine = JSON.stringify({
      v: 1,
      key: aliasKey,
      ...(id?.kind === 'session' && id.key),
      pttl: await raw.pttl(aliasKey),
      at: Date.now(),
      fields: alias,
    })
  }, 60_000)
  afterAll(async () => {
    await store.close()
    raw.disconnect()
  })

  it('export leaves the alias out and counts it; FLUSHALL and a default import restore the session', async () => {
    const r = await cli(['export', ...where, '--out', file])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(
      /exported 1 sessions and 0 user items in [\d.]+ s \(0 skipped, 1 rotation alias skipped\)/,
    )
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!)
    expect(line).toMatchObject({ key: sessionKey, uid: 'alice' })
    expect(line.fields.$mv).toBeUndefined()
    expect(line.fields.$o).toBeDefined() // the rotated session, rotatedAt set

    await raw.flushall()
    const imported = await cli(['import', ...where, '--in', file])
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stderr).toMatch(
      /imported 1, skipped 0, errors 0 in [\d.]+ s \(user items: 0 imported, 0 skipped\), 0 rotation aliases skipped/,
    )
    expect(await raw.exists(aliasKey)).toBe(0)
    expect(await raw.hgetall(sessionKey)).toEqual(line.fields)
    expect(await raw.zrange(index, '0', '-1')).toEqual([sessionKey.slice(index.length + 1)])
    // the rotated session opens with the current cookie; the alias (and its window) is gone
    expect(await (await me(jar.header())).json()).toEqual({ user: 'alice', cart: ['book'] })
    expect((await me(previousCookie)).status).toBe(401)
  }, 60_000)

  it('an older file with an alias line imports with the alias skipped, not an error', async () => {
    await raw.flushall()
    const sessionLine = readFileSync(file, 'utf8').split('\n').filter(Boolean)[0]!
    // the alias first: with the default --on-error abort, an error would stop before the session
    const text = `${oldAliasLine}\n${sessionLine}\n`
    const r = await cli(['import', ...where], text)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toContain('error:')
    expect(r.stderr).toMatch(
      /imported 1, skipped 0, errors 0 in [\d.]+ s \(user items: 0 imported, 0 skipped\), 1 rotation alias skipped/,
    )
    expect(await raw.exists(aliasKey)).toBe(0)
    expect(await raw.exists(sessionKey)).toBe(1)
    expect(await raw.zrange(index, '0', '-1')).toEqual([sessionKey.slice(index.length + 1)])
    expect(await (await me(jar.header())).json()).toEqual({ user: 'alice', cart: ['book'] })
    // an alias line is still checked like any session line: a foreign key is an error
    const foreign = JSON.stringify({ ...JSON.parse(oldAliasLine), key: 'sess:{bob}:x' })
    const bad = await cli(['import', ...where], `${foreign}\n`)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('line 1: "key" does not match the session layout')
  }, 60_000)

  it('stats does not count an alias as a session; sweep keeps it and its grace window', async () => {
    // rotate the restored session: a new alias, inside its window
    const previous = await rotate()
    const keys = await aliceKeys()
    expect(keys.sessions).toHaveLength(1)
    expect(keys.aliases).toEqual([sessionKey])
    const alias = await raw.hgetall(sessionKey)
    const stats = JSON.parse((await cli(['stats', ...where, '--json'])).stdout)
    expect(stats).toMatchObject({
      sessions: 1,
      anonymousSessions: 0,
      rotationAliases: 1,
      users: 1,
      memoryPerSession: { sampled: 1 },
    })
    const human = await cli(['stats', ...where])
    expect(human.stdout).toMatch(/sessions 1 \(0 anonymous\), users 1, rotation aliases 1/)

    const sweep = async () => {
      const r = await cli(['sweep', ...where, '--json'])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as { indexesScanned: number; membersRemoved: number }
    }
    expect(await sweep()).toMatchObject({ indexesScanned: 1, membersRemoved: 0 })
    expect(await raw.hgetall(sessionKey)).toEqual(alias)
    expect(await raw.pttl(sessionKey)).toBeGreaterThan(500_000)
    expect(await raw.zrange(index, '0', '-1')).toEqual([keys.sessions[0]!.slice(index.length + 1)])
    // an index member naming the alias (not written by the store) is stale: the member goes,
    // the alias hash stays and keeps leading to the session
    await raw.zadd(index, Date.now() + 600_000, sessionKey.slice(index.length + 1))
    expect(await sweep()).toMatchObject({ indexesScanned: 1, membersRemoved: 1 })
    expect(await raw.hgetall(sessionKey)).toEqual(alias)
    expect(await raw.zrange(index, '0', '-1')).toEqual([keys.sessions[0]!.slice(index.length + 1)])
    expect(await (await me(previous)).json()).toEqual({ user: 'alice', cart: ['book'] })
    // sessions list shows the session once, not the alias
    const list = JSON.parse(
      (await cli(['sessions', 'list', '--user', 'alice', ...where, '--json'])).stdout,
    )
    expect(list.map((l: { id: string }) => l.id)).toEqual([
      keys.sessions[0]!.slice(index.length + 1),
    ])
  }, 60_000)
})

describe('export files (security issue, finding 9)', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
    const client = new Redis({ port: server.port })
    await seed(client, 10, 2)
    client.disconnect()
  })

  it('attack: export file is world-readable', async () => {
    const file = join(dir, 'private.jsonl')
    const r = await cli(['export', '--redis-url', server.url, '--out', file])
    expect(r.code, r.stderr).toBe(0)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('attack: export overwrites an existing file', async () => {
    const file = join(dir, 'existing.jsonl')
    writeFileSync(file, 'precious\n', { mode: 0o644 })
    const refused = await cli(['export', '--redis-url', server.url, '--out', file])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/exists: pass --force/)
    expect(readFileSync(file, 'utf8')).toBe('precious\n')
    const forced = await cli(['export', '--redis-url', server.url, '--out', file, '--force'])
    expect(forced.code, forced.stderr).toBe(0)
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(10)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })
})
