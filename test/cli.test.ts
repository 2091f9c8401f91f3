/**
 * The ops CLI as users run it (a child process: arguments, stdin/stdout, exit codes) against
 * real redis-server processes: keygen, bad arguments, Redis down, export/import of 10,000
 * sessions (standalone to standalone and to a 3+3 Cluster), corrupt lines, stats, sessions
 * list/revoke and sweep on standalone and Cluster.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeSession } from '../src/store/codec.js'
import { sessionKeyName, userIndexKeyName } from '../src/store/keys.js'
import {
  startCluster,
  startRedis,
  stopAll,
  type RedisCluster,
  type RedisServer,
} from './helpers/redis.js'

afterAll(stopAll)

const dir = mkdtempSync(join(tmpdir(), 'hrs-cli-'))

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

describe('stats, sessions, sweep', () => {
  for (const kind of ['standalone', 'cluster'] as const) {
    describe(kind, () => {
      let where: string[]
      let client: Redis | Cluster
      let stop: () => Promise<void>
      beforeAll(async () => {
        if (kind === 'standalone') {
          const server = await startRedis()
          where = ['--redis-url', server.url]
          client = new Redis({ port: server.port })
          stop = () => server.stop()
        } else {
          const c = await startCluster()
          where = ['--cluster', c.startupNodes.map((n) => `${n.host}:${n.port}`).join(',')]
          client = new Cluster(c.startupNodes)
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
