/**
 * `npm run bench -- --quick` as CI runs it: every contender starts and answers correctly (the
 * bench itself refuses a contender whose answers are not 200 or whose counter does not count),
 * the table is produced, and Redis commands per request match the round-trip contract. No
 * throughput figure is asserted: these machines are shared and noisy.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { Row } from '../../bench/report.js'

describe('npm run bench -- --quick', () => {
  // 10 minutes: the first run installs bench/ (better-sqlite3 compiles from source, minutes here)
  it('runs every contender and keeps the round-trip contract', { timeout: 600_000 }, async () => {
    // results go to a scratch directory: a full run's bench/results.* stay as they are
    const out = mkdtempSync(join(tmpdir(), 'bench-'))
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'bench', '--', '--quick', '--out', out],
      { maxBuffer: 16 * 1024 * 1024 },
    )
    expect(stdout).toContain('| variant | contender | req/s |')
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toContain('| variant | contender |')
    const rows = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Omit<
      Row,
      'storesInRedis' | 'xFloor' | 'xExpressSession' | 'xBetterAuth'
    >[]
    // exactly the fields the results format promises, numbers where numbers belong
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual(
        [
          'bytesPerSession',
          'contender',
          'cpuMsPerRequest',
          'p50Ms',
          'p99Ms',
          'redisCallsPerRequest',
          'redisCommandsPerRequest',
          'redisUsecPerRequest',
          'rps',
          'variant',
        ].sort(),
      )
      expect(Number.isFinite(r.cpuMsPerRequest) && r.cpuMsPerRequest > 0).toBe(true)
      expect(r.redisUsecPerRequest).toBeGreaterThanOrEqual(0)
      expect(r.redisCallsPerRequest).toBeGreaterThanOrEqual(0)
    }
    const row = (contender: string, variant: string) =>
      rows.find((r) => r.contender === contender && r.variant === variant)
    for (const contender of [
      'this-ioredis',
      'this-upstash-gateway',
      'this-memory',
      'express-session-connect-redis',
      'hono-sessions',
      'hono-session',
      'floor',
    ]) {
      for (const variant of ['read', 'write']) {
        const r = row(contender, variant)
        expect(r, `${contender} ${variant}`).toBeDefined()
        expect(r!.rps).toBeGreaterThan(0)
        expect(r!.p99Ms).toBeGreaterThanOrEqual(r!.p50Ms)
      }
    }
    // the contract: one round trip to read, one to read-add-write (increment), one to write
    // without reading; get() + set() is two
    expect(row('this-ioredis', 'read')!.redisCommandsPerRequest).toBe(1)
    expect(row('this-ioredis', 'write')!.redisCommandsPerRequest).toBe(1)
    expect(row('this-ioredis', 'write-get-set')!.redisCommandsPerRequest).toBe(2)
    expect(row('this-ioredis', 'write-blind')!.redisCommandsPerRequest).toBe(1)
    expect(row('this-ioredis', 'many-fields')!.redisCommandsPerRequest).toBe(1)
    // a login (create + authenticate) is one call, its logout one more
    expect(row('this-ioredis', 'login')!.redisCommandsPerRequest).toBe(1)
    // express-session: DEL + SET to regenerate at login, GET + DEL at logout
    expect(row('express-session-connect-redis', 'login')!.redisCommandsPerRequest).toBe(2)
    expect(row('floor', 'read')!.redisCommandsPerRequest).toBe(1)
    // better-auth 1.7 with its Redis storage started and answered (a signed-in session read; a
    // sign-in that showed its user, a sign-out that ended the session: the bench checks both).
    // Its read is GET of the session + GET of the user's revocation mark; sign-in is GET + SETEX
    // of the user's session list + SETEX of the session (3), sign-out the read's 2 + GET session,
    // GET list, DEL list, DEL session (6): 9 per login + logout, 4.5 per request
    for (const variant of ['read', 'login']) {
      const r = row('better-auth', variant)
      expect(r, `better-auth ${variant}`).toBeDefined()
      expect(r!.rps).toBeGreaterThan(0)
      expect(r!.bytesPerSession).toBeGreaterThan(0)
    }
    expect(row('better-auth', 'read')!.redisCommandsPerRequest).toBe(2)
    expect(row('better-auth', 'login')!.redisCommandsPerRequest).toBe(4.5)
    // Redis' own time (INFO commandstats, reset before each measured run) is there for every
    // contender that stores in Redis; scripts count the commands they run inside too
    for (const c of ['this-ioredis', 'this-upstash-gateway', 'better-auth', 'floor']) {
      expect(row(c, 'read')!.redisUsecPerRequest, c).toBeGreaterThan(0)
      expect(row(c, 'read')!.redisCallsPerRequest, c).toBeGreaterThanOrEqual(1)
    }
    expect(row('floor', 'write')!.redisCommandsPerRequest).toBe(2)
    // cookie and memory sessions never touch Redis
    for (const c of ['this-memory', 'hono-sessions', 'hono-session'])
      expect(row(c, 'read')!.redisCommandsPerRequest).toBe(0)
    // bytes stored for the same session
    expect(row('this-ioredis', 'read')!.bytesPerSession).toBeGreaterThan(0)
    // the Upstash store through the gateway sends the same scripts: one command per request
    expect(row('this-upstash-gateway', 'read')!.redisCommandsPerRequest).toBe(1)
    expect(row('this-upstash-gateway', 'write')!.redisCommandsPerRequest).toBe(1)
    expect(row('this-upstash-gateway', 'login')!.redisCommandsPerRequest).toBe(1)
    // the gateway alone answered (the bench checks the value and the session before timing):
    // one command per request reaches Redis (MONITOR, over a fixed number of requests)
    for (const c of ['gateway', 'gateway-evalsha']) {
      const r = row(c, 'read')
      expect(r, c).toBeDefined()
      expect(r!.rps, c).toBeGreaterThan(0)
      expect(r!.p99Ms, c).toBeGreaterThanOrEqual(r!.p50Ms)
      expect(r!.redisCommandsPerRequest, c).toBe(1)
      expect(r!.bytesPerSession, c).toBeNull()
    }
    // Redis' own count (requests still in flight when a run ends add a few): at least the GET,
    // and at least EVALSHA + the HGETALL inside the script
    expect(row('gateway', 'read')!.redisCallsPerRequest).toBeGreaterThanOrEqual(1)
    expect(row('gateway-evalsha', 'read')!.redisCallsPerRequest).toBeGreaterThanOrEqual(2)
    console.log(
      stdout
        .split('\n')
        .filter((l) => l.startsWith('|'))
        .join('\n'),
    )
    // the bench's own code typechecks too (its dependencies are installed by the run above)
    await promisify(execFile)('npx', ['tsc', '--noEmit', '-p', 'bench'])
  })
})
