/**
 * The sync token on every kind of answer, and what `readFrom: 'replicas'` sends where, on a
 * real Sentinel group (1 primary + 2 replicas): a write's token is the primary's replication
 * offset after it (ROLE on the wire behind the request's commands, one ROLE for the requests
 * of one socket write); scripts, the session store's included, and keyspace or server commands
 * never reach a replica; a replica that lost its master, or whose connection is gone, leaves
 * reads to the primary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, Redis } from 'ioredis'
import { createGateway, listen, type RunningGateway } from '../../src/gateway/index.js'
import { connectReplicas } from '../../src/gateway/replicas.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { upstashStore } from '../../src/store/upstash.js'
import { testStore } from '../../src/testing/index.js'
import { onTheWire } from '../helpers/monitor.js'
import {
  freePort,
  startRedis,
  startSentinelGroup,
  stopAll,
  type RedisServer,
  type SentinelGroup,
} from '../helpers/redis.js'

const TOKEN = 'sync-token-test-0123456789'
const AUTH = { authorization: `Bearer ${TOKEN}` }

let group: SentinelGroup
let primary: Redis
let replicas: Redis[]
/** Every command on the primary. */
let onPrimary: RunningGateway
/** Data reads on the replicas. */
let onReplicas: RunningGateway

async function field(server: RedisServer, section: string, name: string) {
  const text = await server.cli('INFO', section)
  return new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim()
}
const offsetOf = async (server: RedisServer) =>
  Number(await field(server, 'replication', 'master_repl_offset'))
/** Calls of a command (all its subcommands: `cmdstat_object|encoding` on Redis 7) since RESETSTAT. */
async function calls(server: RedisServer, command: string) {
  const text = await server.cli('INFO', 'commandstats')
  const lines = new RegExp(`^cmdstat_${command}(\\|[a-z-]+)?:calls=(\\d+)`, 'gm')
  return [...text.matchAll(lines)].reduce((sum, m) => sum + Number(m[2]), 0)
}
async function resetStats() {
  for (const s of [group.master, ...group.replicas]) await s.cli('CONFIG', 'RESETSTAT')
}
async function until(check: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 15_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function send(gw: RunningGateway, path: string, body?: unknown, token?: string) {
  const res = await fetch(gw.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: token === undefined ? AUTH : { ...AUTH, 'Upstash-Sync-Token': token },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return {
    status: res.status,
    body: (await res.json()) as { result?: unknown; error?: string },
    token: res.headers.get('upstash-sync-token'),
  }
}

beforeAll(async () => {
  // failover-timeout also delays Sentinel re-pointing a replica we point elsewhere: far beyond the test
  group = await startSentinelGroup({ replicas: 2, failoverTimeoutMs: 600_000 })
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
  await until(async () => [primary, ...replicas].every((c) => c.status === 'ready'), 'clients')
  onPrimary = await listen(createGateway({ redis: primary, tokens: [TOKEN], timeoutMs: 20_000 }), {
    port: 0,
  })
  onReplicas = await listen(
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
  await onPrimary?.stop()
  await onReplicas?.stop()
  for (const c of [primary, ...(replicas ?? [])]) c?.disconnect()
  await stopAll()
})

describe('Upstash-Sync-Token', () => {
  it("a write's token is the primary's offset after it; reads keep the token they bring", async () => {
    const before = await offsetOf(group.master)
    const wrote = await send(onPrimary, '/', ['SET', 'st:a', 'one'])
    const after = await offsetOf(group.master)
    expect(wrote.token).toMatch(/^\d+$/)
    expect(Number(wrote.token)).toBeGreaterThan(before)
    expect(Number(wrote.token)).toBeLessThanOrEqual(after)
    // a later write moves it on
    const again = await send(onPrimary, '/', ['SET', 'st:a', 'two'], wrote.token!)
    expect(Number(again.token)).toBeGreaterThan(Number(wrote.token))
    // a read on the primary asks Redis nothing more and answers with the token it got
    const read = await send(onPrimary, '/', ['GET', 'st:a'], again.token!)
    expect(read).toEqual({ status: 200, body: { result: 'two' }, token: again.token })
  })

  it('is on every answer that got past authentication, on every route', async () => {
    const answers = {
      single: await send(onPrimary, '/', ['INCR', 'st:n']),
      pipeline: await send(onPrimary, '/pipeline', [
        ['INCR', 'st:n'],
        ['GET', 'st:n'],
      ]),
      transaction: await send(onPrimary, '/multi-exec', [
        ['INCR', 'st:n'],
        ['GET', 'st:n'],
      ]),
      pathGet: await send(onPrimary, '/get/st:n'),
      pathPost: await send(onPrimary, '/set/st:p', 'v'),
      redisError: await send(onPrimary, '/', ['INCR', 'st:a']),
      refused: await send(onPrimary, '/', ['FLUSHALL']),
      malformed: await send(onPrimary, '/', ['GET']),
      badToken: await send(onPrimary, '/', ['GET', 'st:n'], 'not-a-token'),
    }
    for (const [name, answer] of Object.entries(answers))
      expect([name, answer.token]).toEqual([name, expect.stringMatching(/^\d+$/)])
    expect(answers.redisError.status).toBe(400)
    expect(answers.refused.status).toBe(400)
    // a subscription's stream and its refusals too
    const stream = await fetch(onPrimary.url + '/subscribe/st:ch', {
      method: 'POST',
      headers: AUTH,
      body: '[]',
    })
    expect(stream.status).toBe(200)
    expect(stream.headers.get('upstash-sync-token')).toMatch(/^\d+$/)
    await stream.body!.cancel()
    const brought = answers.single.token!
    const noName = await fetch(onPrimary.url + '/subscribe', {
      method: 'POST',
      headers: { ...AUTH, 'Upstash-Sync-Token': brought },
      body: '[]',
    })
    expect(noName.status).toBe(400)
    expect(Number(noName.headers.get('upstash-sync-token'))).toBeGreaterThanOrEqual(Number(brought))
    await noName.arrayBuffer()
    const unauthorized = await fetch(onPrimary.url + '/', { method: 'POST', body: '["PING"]' })
    expect(unauthorized.status).toBe(401)
    expect(unauthorized.headers.get('upstash-sync-token')).toBeNull()
  })

  it('ROLE follows the commands on the wire, one for all the requests of one socket write', async () => {
    const wire = await onTheWire(
      [group.master],
      () =>
        send(onPrimary, '/multi-exec', [
          ['SET', 'st:w', '1'],
          ['INCR', 'st:w'],
        ]),
      { role: true },
    )
    expect(wire).toEqual(['multi', 'set st:w', 'incr st:w', 'exec', 'role'])
    // 50 requests issued together (in-process, so they leave in one write): one ROLE
    const gateway = createGateway({ redis: primary, tokens: [TOKEN] })
    const request = (command: unknown[]) =>
      gateway.app.fetch(
        new Request('http://gateway/', {
          method: 'POST',
          headers: AUTH,
          body: JSON.stringify(command),
        }),
      )
    await request(['PING']) // the gateway's first ROLE (at creation) has come back too
    await resetStats()
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => request(['SET', `st:c${i}`, 'v'])),
    )
    expect(await calls(group.master, 'set')).toBe(50)
    expect(await calls(group.master, 'role')).toBe(1)
    const tokens = new Set(answers.map((a) => a.headers.get('upstash-sync-token')))
    expect(tokens.size).toBe(1)
    await gateway.close()
  })
})

describe("readFrom: 'replicas'", () => {
  it('data reads go to the replicas; scripts, cursors and server commands to the primary', async () => {
    await send(onReplicas, '/', ['SET', 'st:r', 'v'])
    await send(onReplicas, '/', ['HSET', 'st:h', 'f', '1'])
    await until(
      async () =>
        (await Promise.all(group.replicas.map((r) => r.cli('HGET', 'st:h', 'f')))).every(
          (v) => v === '1',
        ),
      'replication',
    )
    await resetStats()
    const reads = [
      ['GET', 'st:r'],
      ['HGETALL', 'st:h'],
      ['EXISTS', 'st:r'],
      ['PTTL', 'st:r'],
    ]
    for (const command of reads) expect((await send(onReplicas, '/', command)).status).toBe(200)
    const replicaGets = await Promise.all(group.replicas.map((r) => calls(r, 'get')))
    expect(replicaGets.reduce((a, b) => a + b)).toBe(1)
    expect(await calls(group.master, 'get')).toBe(0)

    const primaryOnly = [
      ['EVAL', "return redis.call('get', KEYS[1])", '1', 'st:r'],
      ['SCAN', '0'],
      ['HSCAN', 'st:h', '0'],
      ['TOUCH', 'st:r'],
      ['OBJECT', 'ENCODING', 'st:r'],
      ['DBSIZE'],
      ['RANDOMKEY'],
      ['PING'],
      ['INFO', 'server'],
      ['SCRIPT', 'EXISTS', 'abc'],
    ]
    const scripts = createGateway({
      redis: primary,
      replicas,
      readFrom: 'replicas',
      tokens: [TOKEN],
      scriptPolicy: 'any',
    })
    await resetStats()
    for (const command of primaryOnly) {
      const res = await scripts.app.fetch(
        new Request('http://gateway/', {
          method: 'POST',
          headers: AUTH,
          body: JSON.stringify(command),
        }),
      )
      expect([command, res.status]).toEqual([command, 200])
    }
    // (sentinels send PING and INFO to the replicas themselves: not counted here)
    const never = ['eval', 'scan', 'hscan', 'touch', 'object', 'dbsize', 'randomkey', 'script']
    for (const command of never)
      for (const replica of group.replicas)
        expect([command, await calls(replica, command)]).toEqual([command, 0])
    expect(await calls(group.master, 'eval')).toBe(1)
    expect(await calls(group.master, 'scan')).toBe(1)
    await scripts.close()
  })

  it('a pipeline of reads goes to one replica; one write sends it all to the primary', async () => {
    await resetStats()
    const reads = await send(onReplicas, '/pipeline', [
      ['GET', 'st:r'],
      ['HGET', 'st:h', 'f'],
    ])
    expect(reads.body).toEqual([{ result: 'v' }, { result: '1' }])
    const mixed = await send(onReplicas, '/pipeline', [
      ['GET', 'st:r'],
      ['SET', 'st:r', 'w'],
      ['GET', 'st:r'],
    ])
    expect(mixed.body).toEqual([{ result: 'v' }, { result: 'OK' }, { result: 'w' }])
    const gets = await Promise.all(group.replicas.map((r) => calls(r, 'get')))
    expect(gets.sort()).toEqual([0, 1])
    expect(await calls(group.master, 'get')).toBe(2)
  })

  it('a token that is not ours sends the read to the primary', async () => {
    await resetStats()
    const read = await send(onReplicas, '/', ['GET', 'st:r'], 'abc')
    expect(read.body).toEqual({ result: 'w' })
    expect(read.token).toMatch(/^\d+$/)
    expect(await calls(group.master, 'get')).toBe(1)
  })

  it('a replica that lost its master serves nothing; the primary answers', async () => {
    const cut = group.replicas[0]!
    await cut.cli('REPLICAOF', '127.0.0.1', String(await freePort()))
    try {
      await until(
        async () => (await field(cut, 'replication', 'master_link_status')) === 'down',
        'the replica to lose its master',
      )
      await send(onPrimary, '/', ['SET', 'st:cut', 'new'])
      const linked = group.replicas[1]!
      await until(async () => (await linked.cli('GET', 'st:cut')) === 'new', 'replication')
      expect(await cut.cli('GET', 'st:cut')).toBe('') // what a read there would see
      await resetStats()
      // no token: a linked replica answers with what it has, an unlinked one must not
      for (let i = 0; i < 10; i++)
        expect((await send(onReplicas, '/', ['GET', 'st:cut'])).body).toEqual({ result: 'new' })
      // the unlinked one's turn went to the primary once, then it was left out
      expect(await calls(group.master, 'get')).toBe(1)
      expect(await calls(cut, 'get')).toBe(1)
      expect(await calls(linked, 'get')).toBe(9)
    } finally {
      await cut.cli('REPLICAOF', '127.0.0.1', String(group.master.port))
      await until(
        async () => (await field(cut, 'replication', 'master_link_status')) === 'up',
        'the replica to link again',
      )
    }
  })

  it('a replica connection that is down is skipped', async () => {
    const gone = connectRedis({
      sentinels: group.sentinelAddrs,
      name: group.name,
      replica: 0,
      stringNumbers: true,
      logger: () => {},
    }) as Redis
    await until(async () => gone.status === 'ready', 'the replica client')
    gone.disconnect()
    const gateway = createGateway({
      redis: primary,
      replicas: [gone],
      readFrom: 'replicas',
      tokens: [TOKEN],
    })
    await resetStats()
    const res = await gateway.app.fetch(
      new Request('http://gateway/', { method: 'POST', headers: AUTH, body: '["GET","st:r"]' }),
    )
    expect(await res.json()).toEqual({ result: 'w' })
    expect(await calls(group.master, 'get')).toBe(1)
    await gateway.close()
  })

  it('is refused without replicas, on a Cluster, and for other values', async () => {
    const server = await startRedis()
    const standalone = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
    const cluster = new Cluster([{ host: '127.0.0.1', port: server.port }], {
      lazyConnect: true,
      redisOptions: { protocol: 2, stringNumbers: true },
    })
    try {
      expect(() =>
        createGateway({ redis: standalone, readFrom: 'replicas', tokens: [TOKEN] }),
      ).toThrow(/readFrom "replicas" needs "replicas"/)
      expect(() =>
        createGateway({ redis: cluster, replicas, readFrom: 'replicas', tokens: [TOKEN] }),
      ).toThrow(/not a Cluster/)
      expect(() =>
        createGateway({ redis: standalone, readFrom: 'nearest' as 'primary', tokens: [TOKEN] }),
      ).toThrow(/"readFrom" must be "primary" or "replicas"/)
      const resp3 = new Redis({ port: server.port, lazyConnect: true })
      expect(() =>
        createGateway({ redis: standalone, replicas: [resp3], tokens: [TOKEN] }),
      ).toThrow(/RESP2/)
    } finally {
      standalone.disconnect()
      cluster.disconnect()
    }
  })
})

describe('the ACL user of the README', () => {
  /** The README's line, on every server (ACL users are not replicated), with or without +role. */
  async function aclUser(role: boolean) {
    const rules = ['~sess:*', '+@read', '+@write', '+@scripting', '-@dangerous', '+ping', '+info']
    if (role) rules.push('+role')
    rules.push('-select', '-migrate', '-keys')
    for (const server of [group.master, ...group.replicas])
      await server.cli('ACL', 'SETUSER', 'gateway', 'reset', 'on', '>acl-password-0123', ...rules)
    const target = {
      sentinels: group.sentinelAddrs,
      name: group.name,
      username: 'gateway',
      password: 'acl-password-0123',
      commandTimeoutMs: 5000,
      stringNumbers: true,
      logger: () => {},
    }
    const redis = connectRedis(target) as Redis
    const readers = await connectReplicas(target)
    await until(async () => [redis, ...readers].every((c) => c.status === 'ready'), 'clients')
    const gateway = createGateway({
      redis,
      replicas: readers,
      readFrom: 'replicas',
      tokens: [TOKEN],
    })
    const request = async (command: unknown[]) => {
      const res = await gateway.app.fetch(
        new Request('http://gateway/', {
          method: 'POST',
          headers: AUTH,
          body: JSON.stringify(command),
        }),
      )
      return { body: await res.json(), token: res.headers.get('upstash-sync-token') }
    }
    return {
      request,
      async close() {
        await gateway.close()
        for (const c of [redis, ...readers]) c.disconnect()
      },
    }
  }

  it('with +role: measured tokens and reads on the replicas', async () => {
    const user = await aclUser(true)
    try {
      const wrote = await user.request(['SET', 'sess:acl', 'v'])
      expect(wrote).toEqual({ body: { result: 'OK' }, token: expect.stringMatching(/^\d+$/) })
      await until(
        async () => (await group.replicas[0]!.cli('GET', 'sess:acl')) === 'v',
        'replication',
      )
      await until(
        async () => (await group.replicas[1]!.cli('GET', 'sess:acl')) === 'v',
        'replication',
      )
      await resetStats()
      expect((await user.request(['GET', 'sess:acl'])).body).toEqual({ result: 'v' })
      expect(await calls(group.master, 'get')).toBe(0)
    } finally {
      await user.close()
    }
  })

  it('without +role: every answer still comes, no measured token, reads on the primary', async () => {
    const user = await aclUser(false)
    try {
      expect(await user.request(['SET', 'sess:acl', 'w'])).toEqual({
        body: { result: 'OK' },
        token: null,
      })
      await resetStats()
      expect((await user.request(['GET', 'sess:acl'])).body).toEqual({ result: 'w' })
      expect(await calls(group.master, 'get')).toBe(1)
    } finally {
      await user.close()
    }
  })
})

// The session store over a gateway that reads from replicas: every operation is a script, so
// every one runs on the primary and the whole contract holds.
testStore('upstash via gateway, Sentinel, readFrom replicas', async () => {
  const gw = await listen(
    createGateway({
      redis: primary,
      replicas,
      readFrom: 'replicas',
      tokens: [TOKEN],
      timeoutMs: 20_000,
    }),
    { port: 0 },
  )
  await resetStats()
  return {
    store: upstashStore({ url: gw.url, token: TOKEN }),
    cleanup: async () => {
      await gw.stop()
      for (const replica of group.replicas)
        for (const command of ['eval', 'evalsha', 'hgetall', 'get'])
          expect([command, await calls(replica, command)]).toEqual([command, 0])
      expect(await calls(group.master, 'evalsha')).toBeGreaterThan(0)
    },
  }
})
