/**
 * The commands of gateway issue item 7, over real HTTP on a real redis-server 7.x: PUBLISH and
 * consumer groups (Redis 6.2 commands), commands of a newer server accepted when it knows them
 * and refused with a clear error when it does not (the same binary with them renamed away, as
 * a 6.2 server would be), functions under the script policy, `allowCommands` and read-only
 * tokens. Refusals are checked to have reached no Redis (`INFO commandstats`).
 */
import { Redis as Upstash } from '@upstash/redis'
import { Redis } from 'ioredis'
import type { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createGateway,
  listen,
  scriptDigest,
  type GatewayOptions,
} from '../../src/gateway/index.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import {
  startCluster,
  startRedis,
  stopAll,
  type RedisCluster,
  type RedisServer,
} from '../helpers/redis.js'

const TOKEN = 'cmd-rw-token-0123456789abcdef'
const READ_TOKEN = 'cmd-ro-token-0123456789abcdef'
const NEWER = ['EVAL_RO', 'EVALSHA_RO', 'LMPOP', 'SINTERCARD', 'FUNCTION', 'FCALL', 'FCALL_RO']
const GET_SCRIPT = "return redis.call('GET', KEYS[1])"
const SET_SCRIPT = "return redis.call('SET', KEYS[1], ARGV[1])"
const LIBRARY = [
  '#!lua name=gwlib',
  "redis.register_function('gw_set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)",
  "redis.register_function{function_name='gw_get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}",
].join('\n')
const LOOP_LIBRARY = [
  '#!lua name=gwloop',
  "redis.register_function('gw_loop', function() local i=0 while i<3e9 do i=i+1 end return i end)",
].join('\n')

let server: RedisServer
let direct: Redis
const clients: (Redis | Cluster)[] = []
const stops: (() => Promise<void>)[] = []

beforeAll(async () => {
  server = await startRedis()
  direct = new Redis({ port: server.port, host: server.host, protocol: 2 })
})
afterAll(async () => {
  for (const stop of stops) await stop()
  for (const client of clients) client.disconnect()
  direct?.disconnect()
  await stopAll()
})

/** A client as the gateway needs it (integers as text). */
function gatewayClient(target: RedisServer = server, commandTimeoutMs = 2000) {
  const redis = connectRedis({
    url: target.url,
    stringNumbers: true,
    commandTimeoutMs,
    logger: () => {},
  })
  clients.push(redis)
  return redis
}

/** A gateway over real HTTP on `target` (default: the 7.x server), with a read-only token. */
async function gatewayOn(
  options: Partial<GatewayOptions> = {},
  target: RedisServer = server,
  commandTimeoutMs = 2000,
) {
  const redis = gatewayClient(target, commandTimeoutMs)
  const running = await listen(
    createGateway({ redis, tokens: [TOKEN], readOnlyTokens: [READ_TOKEN], ...options }),
    { port: 0 },
  )
  stops.push(() => running.stop())
  const post = async (path: string, body: unknown, token = TOKEN) => {
    const res = await fetch(running.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  /** One command on POST /: its result, or throws with the error (and status). */
  const run = async (command: unknown[], token = TOKEN) => {
    const res = await post('/', command, token)
    if (res.status !== 200) throw new Error(`${res.status} ${res.body.error}`)
    return res.body.result
  }
  return { url: running.url, post, run, stop: () => running.stop() }
}

/** How many times Redis ran each command (`INFO commandstats`). */
async function calls(node: Redis = direct): Promise<Record<string, number>> {
  const info = (await node.info('commandstats')) as string
  const out: Record<string, number> = {}
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2])
  return out
}

/** How many error replies Redis gave (an unknown command counts as an ERR). */
async function errorReplies(node: Redis): Promise<number> {
  const info = (await node.info('stats')) as string
  return Number(/^total_error_replies:(\d+)/m.exec(info)![1])
}

describe('PUBLISH and consumer groups (Redis 6.2) through the gateway', () => {
  let gw: Awaited<ReturnType<typeof gatewayOn>>
  beforeAll(async () => {
    gw = await gatewayOn()
  })

  it('PUBLISH reaches a subscriber; a read-only token may not publish', async () => {
    const subscriber = direct.duplicate()
    const received: string[] = []
    subscriber.on('message', (channel: string, message: string) =>
      received.push(`${channel}:${message}`),
    )
    await subscriber.subscribe('gw:news')
    try {
      expect(await gw.post('/', ['PUBLISH', 'gw:news', 'hello'])).toEqual({
        status: 200,
        body: { result: 1 },
      })
      const ro = await gw.post('/', ['PUBLISH', 'gw:news', 'from a reader'], READ_TOKEN)
      expect(ro.status).toBe(400)
      expect(ro.body.error).toMatch(/^NOPERM .*'publish'/)
      await expect.poll(() => received).toEqual(['gw:news:hello'])
      expect(await gw.run(['PUBLISH', 'gw:nobody', 'x'])).toBe(0)
    } finally {
      subscriber.disconnect()
    }
  })

  it('a consumer group from creation to destruction: XGROUP, XREADGROUP, XPENDING, XCLAIM, XAUTOCLAIM, XACK, XINFO', async () => {
    const s = 'cg:stream'
    await direct.xadd(s, '1-1', 'f', 'v')
    await direct.xadd(s, '2-1', 'f', 'w')
    expect(await gw.run(['XGROUP', 'CREATE', s, 'g', '0'])).toBe('OK')
    expect((await gw.post('/', ['XGROUP', 'CREATE', s, 'g', '0'])).body.error).toMatch(/^BUSYGROUP/)
    expect(await gw.run(['XGROUP', 'CREATECONSUMER', s, 'g', 'alice'])).toBe(1)
    expect(
      await gw.run(['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 10, 'STREAMS', s, '>']),
    ).toEqual([
      [
        s,
        [
          ['1-1', ['f', 'v']],
          ['2-1', ['f', 'w']],
        ],
      ],
    ])
    expect(await gw.run(['XPENDING', s, 'g'])).toEqual([2, '1-1', '2-1', [['alice', '2']]])
    expect(await gw.run(['XPENDING', s, 'g', '-', '+', 10])).toEqual([
      ['1-1', 'alice', expect.any(Number), 1],
      ['2-1', 'alice', expect.any(Number), 1],
    ])
    expect(await gw.run(['XPENDING', s, 'g', 'IDLE', 0, '-', '+', 10, 'alice'])).toHaveLength(2)
    expect(await gw.run(['XCLAIM', s, 'g', 'bob', 0, '1-1'])).toEqual([['1-1', ['f', 'v']]])
    expect(await gw.run(['XAUTOCLAIM', s, 'g', 'carol', 0, '0', 'COUNT', 10])).toEqual([
      '0-0',
      [
        ['1-1', ['f', 'v']],
        ['2-1', ['f', 'w']],
      ],
      [],
    ])
    expect(await gw.run(['XACK', s, 'g', '1-1', '2-1'])).toBe(2)
    expect(await direct.xpending(s, 'g')).toEqual([0, null, null, null])
    const [group] = (await gw.run(['XINFO', 'GROUPS', s])) as unknown[][]
    expect(group).toEqual(expect.arrayContaining(['name', 'g', 'consumers', 3, 'pending', 0]))
    const consumers = (await gw.run(['XINFO', 'CONSUMERS', s, 'g'])) as unknown[][]
    expect(consumers.map((c) => c[1])).toEqual(['alice', 'bob', 'carol'])
    expect(await gw.run(['XINFO', 'STREAM', s])).toEqual(expect.arrayContaining(['length', 2]))
    expect(await gw.run(['XINFO', 'STREAM', s, 'FULL', 'COUNT', 5])).toEqual(
      expect.arrayContaining(['length', 2]),
    )
    expect(await gw.run(['XGROUP', 'SETID', s, 'g', '0'])).toBe('OK')
    expect(await gw.run(['XGROUP', 'DELCONSUMER', s, 'g', 'carol'])).toBe(0)
    expect(await gw.run(['XGROUP', 'DESTROY', s, 'g'])).toBe(1)
    expect(await direct.call('XINFO', 'GROUPS', s)).toEqual([])
  })

  it('XREADGROUP with BLOCK is refused before it reaches Redis; a group called "block" is no option', async () => {
    const s = 'cg:block'
    await direct.xgroup('CREATE', s, 'g', '$', 'MKSTREAM')
    const before = await calls()
    for (const command of [
      ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', s, '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 1, 'block', 10, 'NOACK', 'STREAMS', s, '>'],
      ['XREAD', 'COUNT', 1, 'BLOCK', 0, 'STREAMS', s, '$'],
    ]) {
      const res = await gw.post('/', command)
      expect([command.join(' '), res.status]).toEqual([command.join(' '), 400])
      expect(res.body.error).toMatch(/with BLOCK is not allowed through the gateway/)
    }
    expect((await calls()).xreadgroup ?? 0).toBe(before.xreadgroup ?? 0)
    expect((await calls()).xread ?? 0).toBe(before.xread ?? 0)
    // option words are read as Redis reads them: group and stream names are not options
    await direct.xgroup('CREATE', 'block', 'block', '$', 'MKSTREAM')
    expect(await gw.run(['XREADGROUP', 'GROUP', 'block', 'block', 'STREAMS', 'block', '>'])).toBe(
      null,
    )
    expect(await gw.run(['XREAD', 'STREAMS', 'block', '0'])).toBe(null)
  })

  it('counts are bounded by GATEWAY_MAX_COUNT: XREADGROUP, XAUTOCLAIM, XPENDING, XINFO STREAM FULL, LMPOP', async () => {
    const s = 'cg:counts'
    await direct.xgroup('CREATE', s, 'g', '$', 'MKSTREAM')
    const before = await calls()
    for (const command of [
      ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 10_001, 'STREAMS', s, '>'],
      ['XAUTOCLAIM', s, 'g', 'c', 0, '0', 'COUNT', 10_001],
      ['XPENDING', s, 'g', '-', '+', 10_001],
      ['XPENDING', s, 'g', 'IDLE', 0, '-', '+', 10_001, 'c'],
      ['XINFO', 'STREAM', s, 'FULL', 'COUNT', 0],
      ['XINFO', 'STREAM', s, 'FULL', 'COUNT', 10_001],
      ['LMPOP', 2, 'cg:l1', 'cg:l2', 'LEFT', 'COUNT', 10_001],
    ]) {
      const res = await gw.post('/', command)
      expect([command.join(' '), res.status]).toEqual([command.join(' '), 400])
      expect(res.body.error).toMatch(/limited to 1\.\.10000 .*GATEWAY_MAX_COUNT/)
    }
    const after = await calls()
    for (const name of ['xreadgroup', 'xautoclaim', 'xpending', 'xinfo|stream', 'lmpop'])
      expect([name, after[name] ?? 0]).toEqual([name, before[name] ?? 0])
    expect(await gw.run(['XPENDING', s, 'g', '-', '+', 10_000])).toEqual([])
  })

  it('read-only tokens: XINFO and XPENDING read; what moves a group or its pending list is refused', async () => {
    const s = 'cg:ro'
    await direct.xadd(s, '1-1', 'f', 'v')
    await direct.xgroup('CREATE', s, 'g', '0')
    await direct.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', s, '>')
    expect(await gw.run(['XINFO', 'GROUPS', s], READ_TOKEN)).toHaveLength(1)
    expect(await gw.run(['XPENDING', s, 'g'], READ_TOKEN)).toEqual([
      1,
      '1-1',
      '1-1',
      [['alice', '1']],
    ])
    for (const command of [
      ['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', s, '0'],
      ['XACK', s, 'g', '1-1'],
      ['XCLAIM', s, 'g', 'bob', 0, '1-1'],
      ['XAUTOCLAIM', s, 'g', 'bob', 0, '0'],
      ['XGROUP', 'CREATE', s, 'g2', '0'],
      ['XGROUP', 'CREATECONSUMER', s, 'g', 'bob'],
      ['XGROUP', 'DELCONSUMER', s, 'g', 'alice'],
      ['XGROUP', 'SETID', s, 'g', '$'],
      ['XGROUP', 'DESTROY', s, 'g'],
      ['LMPOP', 1, 'cg:list', 'LEFT'],
    ]) {
      const res = await gw.post('/', command, READ_TOKEN)
      expect([command.join(' '), res.status]).toEqual([command.join(' '), 400])
      expect(res.body.error).toMatch(/^NOPERM this token is read-only/)
    }
    expect(await direct.xpending(s, 'g')).toEqual([1, '1-1', '1-1', [['alice', '1']]])
    expect(await direct.call('XINFO', 'GROUPS', s)).toHaveLength(1)
  })
})

describe('commands of a newer Redis (7.0)', () => {
  it('run on a server that knows them: EVAL_RO and EVALSHA_RO of registered scripts, LMPOP, SINTERCARD', async () => {
    const gw = await gatewayOn({ scripts: [GET_SCRIPT, SET_SCRIPT] })
    await direct.set('new:k', 'v')
    expect(await gw.run(['EVAL_RO', GET_SCRIPT, 1, 'new:k'])).toBe('v')
    expect(await gw.run(['EVAL_RO', GET_SCRIPT, 1, 'new:k'], READ_TOKEN)).toBe('v')
    const sha = await direct.script('LOAD', GET_SCRIPT)
    expect(sha).toBe(scriptDigest(GET_SCRIPT))
    expect(await gw.run(['EVALSHA_RO', sha, 1, 'new:k'], READ_TOKEN)).toBe('v')
    // the script policy holds for the read-only variants too
    for (const command of [
      ['EVAL_RO', "return redis.call('KEYS', '*')", 0],
      ['EVALSHA_RO', await direct.script('LOAD', 'return 1'), 0],
    ]) {
      expect((await gw.post('/', command, READ_TOKEN)).body.error).toMatch(
        /^NOPERM .*not registered/,
      )
    }
    // a registered script that writes: Redis itself refuses it in read-only mode
    const writes = await gw.post('/', ['EVAL_RO', SET_SCRIPT, 1, 'new:k', 'x'])
    expect(writes.status).toBe(400)
    expect(writes.body.error).toMatch(/Write commands are not allowed from read-only scripts/)
    expect(await direct.get('new:k')).toBe('v')
    await direct.rpush('new:l1', 'a', 'b', 'c')
    expect(await gw.run(['LMPOP', 2, 'new:l0', 'new:l1', 'LEFT', 'COUNT', 2])).toEqual([
      'new:l1',
      ['a', 'b'],
    ])
    await direct.sadd('new:s1', 'a', 'b', 'c')
    await direct.sadd('new:s2', 'b', 'c', 'd')
    expect(await gw.run(['SINTERCARD', 2, 'new:s1', 'new:s2'], READ_TOKEN)).toBe(2)
    expect(await gw.run(['SINTERCARD', 2, 'new:s1', 'new:s2', 'LIMIT', 1])).toBe(1)
  })

  it('are refused with a clear error by a server that does not know them, and reach no Redis', async () => {
    const older = await startRedis({
      args: NEWER.flatMap((name) => ['--rename-command', name, '']),
    })
    const olderDirect = new Redis({ port: older.port, host: older.host })
    clients.push(olderDirect)
    const gw = await gatewayOn({ scriptPolicy: 'any' }, older)
    const before = await calls(olderDirect)
    const errorsBefore = await errorReplies(olderDirect)
    for (const command of [
      ['EVAL_RO', 'return 1', 0],
      ['EVALSHA_RO', scriptDigest('return 1'), 0],
      ['LMPOP', 1, 'l', 'LEFT'],
      ['SINTERCARD', 1, 's'],
      ['FUNCTION', 'LIST'],
      ['FUNCTION', 'LOAD', LIBRARY],
      ['FCALL', 'gw_set', 1, 'k', 'v'],
      ['FCALL_RO', 'gw_get', 1, 'k'],
    ]) {
      const res = await gw.post('/', command)
      const name = String(command[0]).toLowerCase()
      expect([name, res.status]).toEqual([name, 400])
      expect(res.body.error).toBe(
        `ERR '${name}' is not supported by the connected Redis server: it came with Redis 7.0, and the server does not know it`,
      )
    }
    const piped = await gw.post('/pipeline', [['LMPOP', 1, 'l', 'LEFT'], ['PING']])
    expect(piped.body).toEqual([
      { error: expect.stringMatching(/^ERR 'lmpop' is not supported/) },
      { result: 'PONG' },
    ])
    // none reached the server: it would have answered "unknown command", an error reply
    expect(await errorReplies(olderDirect)).toBe(errorsBefore)
    expect((await calls(olderDirect)).ping).toBe((before.ping ?? 0) + 1)
  })

  it('an ACL user that may not run COMMAND: the gateway cannot ask, and Redis answers for itself', async () => {
    const acl = await startRedis()
    const aclDirect = new Redis({ port: acl.port, host: acl.host })
    clients.push(aclDirect)
    await aclDirect.call(
      'ACL',
      'SETUSER',
      'nocmd',
      'on',
      '>nocmd-password-0123',
      '~*',
      '&*',
      '+@all',
      '-command',
    )
    const redis = connectRedis({
      url: `redis://nocmd:nocmd-password-0123@${acl.host}:${acl.port}`,
      stringNumbers: true,
      logger: () => {},
    })
    clients.push(redis)
    const running = await listen(createGateway({ redis, tokens: [TOKEN] }), { port: 0 })
    stops.push(() => running.stop())
    await aclDirect.rpush('acl:l', 'x')
    const res = await fetch(running.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(['LMPOP', 1, 'acl:l', 'LEFT']),
    })
    expect(await res.json()).toEqual({ result: ['acl:l', ['x']] })
  })

  it('Redis down when the gateway starts: the start is not held up, and the first request that needs it asks', async () => {
    const later = await startRedis()
    await later.stop()
    const gw = await gatewayOn({}, later, 300)
    const down = await gw.post('/', ['LMPOP', 1, 'late:l', 'LEFT'])
    expect(down.status).toBe(503)
    expect(down.body.error).toMatch(/^ERR Redis is unavailable/)
    await later.start()
    await expect
      .poll(async () => (await gw.post('/', ['PING'])).status, { timeout: 10_000 })
      .toBe(200)
    const laterDirect = new Redis({ port: later.port, host: later.host })
    clients.push(laterDirect)
    await laterDirect.rpush('late:l', 'x')
    expect(await gw.run(['LMPOP', 1, 'late:l', 'LEFT'])).toEqual(['late:l', ['x']])
  })
})

describe('functions (Redis 7) and the script policy', () => {
  it('registered (default): FUNCTION LOAD, DELETE and FLUSH refused; FCALL off unless opened', async () => {
    await direct.function('FLUSH')
    const gw = await gatewayOn()
    for (const command of [
      ['FUNCTION', 'LOAD', LIBRARY],
      ['FUNCTION', 'LOAD', 'REPLACE', LIBRARY],
      ['FUNCTION', 'FLUSH'],
      ['FUNCTION', 'DELETE', 'gwlib'],
      ['FUNCTION', 'RESTORE', 'x'],
      ['FUNCTION', 'KILL'],
    ]) {
      const res = await gw.post('/', command)
      expect([command.slice(0, 2).join(' '), res.status]).toEqual([
        command.slice(0, 2).join(' '),
        400,
      ])
    }
    expect(await direct.function('LIST')).toEqual([])
    // what the operator loaded: listed, but not called unless opened
    await direct.function('LOAD', LIBRARY)
    expect(await gw.run(['FUNCTION', 'LIST'], READ_TOKEN)).toHaveLength(1)
    expect(await gw.run(['FUNCTION', 'STATS'])).toEqual(expect.arrayContaining(['engines']))
    const call = await gw.post('/', ['FCALL', 'gw_set', 1, 'fn:k', 'v'])
    expect(call.body.error).toMatch(
      /^ERR 'fcall' is not allowed through the gateway: with GATEWAY_SCRIPTS=registered .*GATEWAY_ALLOW_COMMANDS=FCALL,FCALL_RO/,
    )
    expect(await direct.exists('fn:k')).toBe(0)

    const opened = await gatewayOn({ allowCommands: ['FCALL', 'FCALL_RO'] })
    expect(await opened.run(['FCALL', 'gw_set', 1, 'fn:k', 'v'])).toBe('OK')
    expect(await opened.run(['FCALL_RO', 'gw_get', 1, 'fn:k'])).toBe('v')
    // allowCommands open commands for read-write tokens only
    expect(
      (await opened.post('/', ['FCALL_RO', 'gw_get', 1, 'fn:k'], READ_TOKEN)).body.error,
    ).toMatch(/^NOPERM/)
    // a name alone opens its subcommands, but never the code-changing ones under `registered`
    const all = await gatewayOn({ allowCommands: ['FUNCTION'] })
    expect(await all.run(['FUNCTION', 'DUMP'])).toEqual(expect.any(String))
    expect((await all.post('/', ['FUNCTION', 'FLUSH'])).body.error).toMatch(
      /^NOPERM .*'function flush' would change the code stored in Redis/,
    )
    expect(await direct.function('LIST')).toHaveLength(1)
    for (const entry of ['FUNCTION LOAD', 'function delete', 'FUNCTION FLUSH'])
      expect(() =>
        createGateway({ redis: gatewayClient(), tokens: [TOKEN], allowCommands: [entry] }),
      ).toThrow(/"allowCommands" cannot enable FUNCTION \w+: it changes the code stored in Redis/)
  })

  it('any: load, call, call read-only (read-only tokens too), delete; FLUSH stays closed', async () => {
    await direct.function('FLUSH')
    const gw = await gatewayOn({ scriptPolicy: 'any' })
    expect(await gw.run(['FUNCTION', 'LOAD', LIBRARY])).toBe('gwlib')
    expect(await gw.run(['FCALL', 'gw_set', 1, 'fa:k', 'v'])).toBe('OK')
    expect(await gw.run(['FCALL_RO', 'gw_get', 1, 'fa:k'], READ_TOKEN)).toBe('v')
    expect((await gw.post('/', ['FCALL', 'gw_set', 1, 'fa:k', 'w'], READ_TOKEN)).status).toBe(400)
    // FCALL_RO of a function without the no-writes flag: Redis refuses
    expect((await gw.post('/', ['FCALL_RO', 'gw_set', 1, 'fa:k', 'w'])).body.error).toMatch(
      /Can not execute a script with write flag using \*_ro command/,
    )
    expect(await direct.get('fa:k')).toBe('v')
    expect((await gw.post('/', ['FUNCTION', 'FLUSH'])).body.error).toMatch(/not allowed/)
    expect(await gw.run(['FUNCTION', 'DELETE', 'gwlib'])).toBe('OK')
    expect(await direct.function('LIST')).toEqual([])
  })

  it('any: a runaway function is stopped with FUNCTION KILL at the deadline, and Redis serves again', async () => {
    await direct.config('SET', 'busy-reply-threshold', '300')
    await direct.function('LOAD', 'REPLACE', LOOP_LIBRARY)
    const gw = await gatewayOn({ scriptPolicy: 'any', timeoutMs: 500 }, server, 5000)
    try {
      const res = await gw.post('/', ['FCALL', 'gw_loop', 0])
      expect(res.status).toBe(504)
      // the loop would run for many seconds: answered again well before it could have ended
      let answered = false
      for (let i = 0; i < 150 && !answered; i++) {
        answered = await direct.ping().then(
          () => true,
          (err: Error) => (/BUSY/.test(err.message) ? false : Promise.reject(err)),
        )
        if (!answered) await new Promise((r) => setTimeout(r, 20))
      }
      expect(answered).toBe(true)
      expect(await direct.call('FUNCTION', 'STATS')).toEqual(
        expect.arrayContaining(['running_script', null]),
      )
    } finally {
      await direct.function('DELETE', 'gwloop')
      await direct.config('SET', 'busy-reply-threshold', '5000')
    }
  })
})

describe('GATEWAY_ALLOW_COMMANDS (allowCommands)', () => {
  it('opens FLUSHDB for read-write tokens (not read-only ones), in the gateway’s database only', async () => {
    const other = new Redis({ port: server.port, host: server.host, db: 5 })
    clients.push(other)
    await other.set('precious', 'kept')
    await direct.set('flush:me', 'x')
    const closed = await gatewayOn()
    expect((await closed.post('/', ['FLUSHDB'])).body.error).toBe(
      "ERR 'flushdb' is not allowed through the gateway",
    )
    const gw = await gatewayOn({ allowCommands: ['FLUSHDB'] })
    expect((await gw.post('/', ['FLUSHDB'], READ_TOKEN)).body.error).toMatch(/^NOPERM/)
    expect(await direct.exists('flush:me')).toBe(1)
    expect(await gw.run(['FLUSHDB'])).toBe('OK')
    expect(await direct.dbsize()).toBe(0)
    expect(await other.get('precious')).toBe('kept')
  })

  it('never opens what is unsafe by nature: the start fails, naming the command and why', () => {
    const redis = gatewayClient()
    const open = (entry: string) => () =>
      createGateway({ redis, tokens: [TOKEN], allowCommands: [entry], scriptPolicy: 'any' })
    const cases: [string, RegExp][] = [
      ['CONFIG', /administers the whole server/],
      ['config set', /cannot enable CONFIG SET: it administers/],
      ['CONFIG GET', /administers/],
      ['DEBUG', /administers/],
      ['SHUTDOWN', /administers/],
      ['MIGRATE', /other hosts/],
      ['MODULE LOAD', /modules/],
      ['REPLICAOF', /replication/],
      ['SLAVEOF', /replication/],
      ['ACL SETUSER', /users/],
      ['ACL', /users/],
      ['FAILOVER', /administers/],
      ['SAVE', /administers/],
      ['CLUSTER MEET', /cluster topology/],
      ['CLUSTER RESET', /cluster topology/],
      ['FLUSHALL', /other databases/],
      ['MOVE', /other databases/],
      ['SWAPDB', /other databases/],
      ['RESTORE', /sanitize-dump-payload/],
      ['FUNCTION RESTORE', /sanitize-dump-payload/],
      ['SCRIPT KILL', /wait behind the script it should stop/],
      ['FUNCTION KILL', /wait behind the script/],
      ['MULTI', /shares between its callers \(use POST \/multi-exec\)/],
      ['CLIENT KILL', /shares between its callers/],
      ['MONITOR', /shares/],
      ['BLPOP', /shares/],
      ['WAITAOF', /shares/],
      ['SCRIPT DEBUG', /shares/],
      ['FLUSH DB X', /expected NAME or NAME SUBCOMMAND/],
    ]
    for (const [entry, reason] of cases) {
      expect(open(entry), entry).toThrow(/^createGateway: "allowCommands" cannot enable/)
      expect(open(entry), entry).toThrow(reason)
    }
    // and at request time, whatever a list says
    expect(open('CLUSTER')).not.toThrow()
  })

  it('a command with subcommands opened by name alone still refuses its unsafe ones', async () => {
    const gw = await gatewayOn({ allowCommands: ['CLUSTER', 'OBJECT'] })
    expect(await gw.run(['OBJECT', 'HELP'])).toEqual(expect.any(Array))
    for (const command of [
      ['CLUSTER', 'RESET'],
      ['CLUSTER', 'MEET', '127.0.0.1', '1'],
    ]) {
      const res = await gw.post('/', command)
      expect(res.body.error).toBe(
        `ERR '${command.slice(0, 2).join(' ').toLowerCase()}' is not allowed through the gateway`,
      )
    }
  })
})

describe.each([
  ['defaults (base64, auto-pipelining)', {}],
  ['plain responses', { responseEncoding: false as const }],
])('the official @upstash/redis client, unmodified: %s', (variant, clientOptions) => {
  let u: Upstash
  let reader: Upstash
  const k = (name: string) => `up:${variant.length}:${name}`
  beforeAll(async () => {
    const gw = await gatewayOn({ scriptPolicy: 'any' })
    u = new Upstash({ url: gw.url, token: TOKEN, ...clientOptions })
    reader = new Upstash({ url: gw.url, token: READ_TOKEN, ...clientOptions })
  })

  it('publish and a consumer group', async () => {
    expect(await u.publish(k('channel'), 'nobody listens')).toBe(0)
    const id = await u.xadd(k('s'), '*', { f: 'v' })
    expect(await u.xgroup(k('s'), { type: 'CREATE', group: 'g', id: '0' })).toBe('OK')
    expect(await u.xgroup(k('s'), { type: 'CREATECONSUMER', group: 'g', consumer: 'alice' })).toBe(
      1,
    )
    expect(await u.xreadgroup('g', 'alice', k('s'), '>', { count: 10 })).toEqual([
      [k('s'), [[id, ['f', 'v']]]],
    ])
    expect(await reader.xpending(k('s'), 'g', '-', '+', 10)).toEqual([
      [id, 'alice', expect.any(Number), 1],
    ])
    expect(await u.xclaim(k('s'), 'g', 'bob', 0, id)).toEqual([[id, ['f', 'v']]])
    expect(await u.xautoclaim(k('s'), 'g', 'carol', 0, '0', { count: 10 })).toEqual([
      '0-0',
      [[id, ['f', 'v']]],
      [],
    ])
    expect(await u.xack(k('s'), 'g', id)).toBe(1)
    const [group] = (await reader.xinfo(k('s'), { type: 'GROUPS' })) as unknown[][]
    expect(group).toEqual(expect.arrayContaining(['name', 'g', 'pending', 0]))
    expect(await u.xgroup(k('s'), { type: 'DESTROY', group: 'g' })).toBe(1)
  })

  it('evalRo, createScript({ readonly }), lmpop, sintercard', async () => {
    await u.set(k('v'), 'hello')
    expect(await reader.evalRo(GET_SCRIPT, [k('v')], [])).toBe('hello')
    const script = reader.createScript<string, true>(`${GET_SCRIPT} -- ${variant}`, {
      readonly: true,
    })
    // EVALSHA_RO first (NOSCRIPT), then EVAL_RO; then EVALSHA_RO hits the cache
    expect(await script.exec([k('v')], [])).toBe('hello')
    expect(await script.evalshaRo([k('v')], [])).toBe('hello')
    await u.rpush(k('l'), 'a', 'b', 'c')
    expect(await u.lmpop(1, [k('l')], 'LEFT', 2)).toEqual([k('l'), ['a', 'b']])
    await u.sadd(k('s1'), 'a', 'b')
    await u.sadd(k('s2'), 'b', 'c')
    expect(await reader.sintercard([k('s1'), k('s2')])).toBe(1)
  })

  it('functions: load, list, call, callRo, delete', async () => {
    const library = LIBRARY.replace('gwlib', `gwlib${variant.length}`)
      .replaceAll("'gw_set'", `'gw_set${variant.length}'`)
      .replaceAll("'gw_get'", `'gw_get${variant.length}'`)
    expect(await u.functions.load({ code: library, replace: true })).toBe(`gwlib${variant.length}`)
    expect(
      (await u.functions.list({ libraryName: `gwlib${variant.length}` })).map((l) => l.libraryName),
    ).toEqual([`gwlib${variant.length}`])
    expect(await u.functions.call(`gw_set${variant.length}`, [k('f')], ['v'])).toBe('OK')
    expect(await reader.functions.callRo(`gw_get${variant.length}`, [k('f')])).toBe('v')
    expect(await u.functions.delete(`gwlib${variant.length}`)).toBe('OK')
  })
})

describe('on a Redis Cluster (3 masters + 3 replicas)', () => {
  let cluster: RedisCluster
  let post: (path: string, body: unknown) => Promise<{ status: number; body: any }>
  beforeAll(async () => {
    cluster = await startCluster()
    const redis = connectRedis({
      cluster: cluster.startupNodes,
      stringNumbers: true,
      logger: () => {},
    })
    clients.push(redis)
    const running = await listen(
      createGateway({
        redis,
        tokens: [TOKEN],
        scriptPolicy: 'any',
        allowCommands: ['FLUSHDB'],
      }),
      { port: 0 },
    )
    stops.push(() => running.stop())
    post = async (path, body) => {
      const res = await fetch(running.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(body),
      })
      return { status: res.status, body: await res.json() }
    }
  })

  it('FUNCTION LOAD and DELETE reach every master, so FCALL works on any slot', async () => {
    expect((await post('/', ['FUNCTION', 'LOAD', LIBRARY])).body).toEqual({ result: 'gwlib' })
    for (const master of cluster.masters)
      expect(await master.cli('FUNCTION', 'LIST')).toContain('gwlib')
    // keys on three different slots (and so, here, masters)
    for (const key of ['fc:a', 'fc:b', 'fc:c']) {
      expect((await post('/', ['FCALL', 'gw_set', 1, key, key])).body).toEqual({ result: 'OK' })
      expect((await post('/', ['FCALL_RO', 'gw_get', 1, key])).body).toEqual({ result: key })
    }
    expect((await post('/', ['FUNCTION', 'DELETE', 'gwlib'])).body).toEqual({ result: 'OK' })
    for (const master of cluster.masters) expect(await master.cli('FUNCTION', 'LIST')).toBe('')
  })

  it('a consumer group in one slot, XREADGROUP and XACK in one transaction; PUBLISH reaches a subscriber of another node', async () => {
    const s = '{cg}:stream'
    expect((await post('/', ['XGROUP', 'CREATE', s, 'g', '$', 'MKSTREAM'])).body).toEqual({
      result: 'OK',
    })
    const id = (await post('/', ['XADD', s, '*', 'f', 'v'])).body.result as string
    expect((await post('/', ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', s, '>'])).body).toEqual({
      result: [[s, [[id, ['f', 'v']]]]],
    })
    expect(
      (
        await post('/multi-exec', [
          ['XACK', s, 'g', id],
          ['XPENDING', s, 'g'],
        ])
      ).body,
    ).toEqual([{ result: 1 }, { result: [0, null, null, null] }])
    const node = cluster.masters[2]!
    const subscriber = new Redis({ port: node.port, host: node.host })
    clients.push(subscriber)
    const received: string[] = []
    subscriber.on('message', (_channel: string, message: string) => received.push(message))
    await subscriber.subscribe('gw:cluster')
    expect((await post('/', ['PUBLISH', 'gw:cluster', 'hello'])).status).toBe(200)
    await expect.poll(() => received).toEqual(['hello'])
    // keyless commands that would reach one random shard stay refused, opened or not
    expect((await post('/', ['FLUSHDB'])).body.error).toMatch(/on a Redis Cluster/)
  })
})
