/**
 * Redis 6.0 only: every command the Lua scripts run and every command the stores and the ops
 * CLI send must exist in Redis 6.0, without options added later (6.2: GETEX, GETDEL, COPY,
 * ZRANGE BYSCORE/REV/LIMIT, SET GET/EXAT/PXAT, ZRANGESTORE, ...; 7.0: EXPIRE NX/XX/GT/LT, ...).
 * This machine has Redis 7 only, so this static check backs up the runtime suites; they run on
 * any version through REDIS_SERVER / REDIS_CLI.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SCRIPTS } from '../../src/store/redis/scripts.js'

/** The Redis 6.0 commands the project may use (a subset of what 6.0 has). */
const REDIS_6_0 = new Set([
  'DEL',
  'EXISTS',
  'EXPIRE',
  'GET',
  'HDEL',
  'HEXISTS',
  'HGET',
  'HGETALL',
  'HMGET',
  'HSET',
  'INCR',
  'INCRBY',
  'PEXPIRE',
  'PTTL',
  'SET',
  'TYPE',
  'ZADD',
  'ZCARD',
  'ZRANGE',
  'ZRANGEBYSCORE',
  'ZREM',
  'ZREMRANGEBYSCORE',
  'ZREVRANGE',
  'EVAL',
  'EVALSHA',
  'SCAN',
  'PING',
  'INFO',
  'DBSIZE',
  'WAIT',
  'MEMORY',
  'SLOWLOG',
  'SCRIPT',
  'QUIT',
  'CLUSTER',
])
/** Later commands (6.2+ / 7.x) that must never appear. */
const LATER = [
  'GETEX',
  'GETDEL',
  'COPY',
  'ZRANGESTORE',
  'LMPOP',
  'ZMPOP',
  'SINTERCARD',
  'ZINTERCARD',
  'EXPIRETIME',
  'PEXPIRETIME',
  'HRANDFIELD',
  'ZRANDMEMBER',
  'SMISMEMBER',
  'ZMSCORE',
  'ZDIFF',
  'ZINTER',
  'ZUNION',
  'FUNCTION',
  'FCALL',
  'OBJECT FREQ',
  'LPOS',
  'XAUTOCLAIM',
  'GEOSEARCH',
]

describe('Redis 6.0 commands only', () => {
  it('every command call in the scripts is one the check below can read', () => {
    for (const script of Object.values(SCRIPTS)) {
      const all = script.source.match(/redis\.\w*call\(/g) ?? []
      const literal = script.source.match(/redis\.p?call\(\s*'[A-Za-z]+'/g) ?? []
      // the one call with a variable command: the prelude's chunked(), whose callers name it
      const chunked = script.source.match(/redis\.call\(cmd, /g) ?? []
      expect(literal.length + chunked.length, script.name).toBe(all.length)
    }
  })

  for (const [name, script] of Object.entries(SCRIPTS)) {
    it(`script ${name} calls only Redis 6.0 commands, without later options`, () => {
      const calls = [
        ...script.source.matchAll(/(?:redis\.p?call|chunked)\(\s*'([A-Za-z]+)'([^)]*)\)/g),
      ]
      expect(calls.length).toBeGreaterThan(0)
      for (const [, command, rest] of calls) {
        expect(REDIS_6_0, `${name}: ${command}`).toContain(command!.toUpperCase())
        const args = rest!.toUpperCase()
        if (command === 'ZRANGE')
          expect(args, `${name}: ZRANGE options`).not.toMatch(/BYSCORE|BYLEX|REV|LIMIT/)
        if (command === 'PEXPIRE' || command === 'EXPIRE')
          expect(args).not.toMatch(/'(NX|XX|GT|LT)'/)
        if (command === 'SET') expect(args).not.toMatch(/'(GET|EXAT|PXAT|KEEPTTL)'/)
      }
    })
  }

  it('no source file sends a command added after Redis 6.0', () => {
    // (script-kill.ts sends FUNCTION KILL only for a function that ran: Redis 7 servers only;
    // replica-reads.ts lists the read commands a replica may serve)
    const GATEWAY_POLICY = [
      'gateway/commands.ts',
      'gateway/arguments.ts',
      'gateway/server-commands.ts',
      'gateway/script-kill.ts',
      'gateway/scripts.ts',
      'gateway/replica-reads.ts',
    ]
    const files = ['src/store', 'src/ops', 'src/gateway', 'demo/node'].flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(dir, f)),
    )
    for (const file of files) {
      // the gateway's allowlist and argument rules name later commands to pass through or
      // refuse (a client's COPY ... DB, Redis 7's LMPOP); the gateway never sends them itself
      if (GATEWAY_POLICY.some((policy) => file.endsWith(policy))) continue
      const text = readFileSync(file, 'utf8')
      for (const command of LATER) {
        const method = command.toLowerCase().replace(' ', '')
        expect(text, `${file} uses ${command}`).not.toMatch(
          new RegExp(`\\.${method}\\(|'${command}'`),
        )
      }
    }
  })
})
