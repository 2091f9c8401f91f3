/**
 * The gateway's HTTP protocol against a real redis-server, over real HTTP: response shapes,
 * base64 encoding, path form, auth, the allowlist, input validation, timeouts and shutdown.
 * Every refused request is checked with ioredis to have written nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import type { Cluster } from 'ioredis'
import { createGateway, listen, type RunningGateway } from '../../src/gateway/index.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { startRedis, stopAll, type RedisServer } from '../helpers/redis.js'

const TOKEN = 'rw-token-0123456789abcdef'
const TOKEN_2 = 'rw-token-second-0123456789'
const READ_TOKEN = 'ro-token-0123456789abcdef'

let server: RedisServer
let redis: Redis | Cluster
let direct: Redis
let gw: RunningGateway

beforeAll(async () => {
  server = await startRedis()
  redis = connectRedis({
    url: server.url,
    commandTimeoutMs: 2000,
    stringNumbers: true,
    logger: () => {},
  })
  direct = new Redis({ port: server.port, host: server.host, protocol: 2 })
  gw = await listen(
    // scripts of any source: these tests check the protocol (the script policy: security/attacks/gateway-scripts)
    createGateway({
      redis,
      tokens: [TOKEN, TOKEN_2],
      readOnlyTokens: [READ_TOKEN],
      scriptPolicy: 'any',
    }),
    { port: 0 },
  )
})

afterAll(async () => {
  await gw?.stop()
  redis?.disconnect()
  direct?.disconnect()
  await stopAll()
})

type Init = { token?: string | null; headers?: Record<string, string>; method?: string }

/** One HTTP request to the gateway; returns status and parsed JSON body. */
async function call(path: string, body?: BodyInit, init: Init = {}, base = () => gw.url) {
  const headers: Record<string, string> = { ...init.headers }
  const token = init.token === undefined ? TOKEN : init.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  const res = await fetch(base() + path, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  })
  const text = await res.text()
  expect(res.headers.get('content-type') ?? '', text).toMatch(/application\/json/)
  return { status: res.status, body: JSON.parse(text) as any }
}
const post = (path: string, value: unknown, init: Init = {}) =>
  call(path, JSON.stringify(value), init)

describe('gateway protocol', () => {
  it('runs one command on POST / and answers {result}', async () => {
    expect(await post('/', ['SET', 'p:a', 'hello'])).toEqual({
      status: 200,
      body: { result: 'OK' },
    })
    expect(await post('/', ['GET', 'p:a'])).toEqual({ status: 200, body: { result: 'hello' } })
    expect(await post('/', ['GET', 'p:missing'])).toEqual({ status: 200, body: { result: null } })
    expect(await post('/', ['INCRBY', 'p:n', 5])).toEqual({ status: 200, body: { result: 5 } })
    expect(await post('/', ['SET', 'p:b', true])).toEqual({ status: 200, body: { result: 'OK' } })
    expect(await direct.get('p:b')).toBe('true')
  })

  it('passes Redis errors through unchanged with status 400', async () => {
    expect(await post('/', ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', 0])).toEqual({
      status: 400,
      body: { error: 'NOSCRIPT No matching script. Please use EVAL.' },
    })
    await direct.set('p:str', 'x')
    expect(await post('/', ['HGET', 'p:str', 'f'])).toEqual({
      status: 400,
      body: { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
    })
  })

  it('base64-encodes every string at every depth with Upstash-Encoding: base64', async () => {
    const b64 = { headers: { 'Upstash-Encoding': 'base64' } }
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x41])
    await direct.set('p:bin', bytes)
    expect(await post('/', ['GET', 'p:bin'], b64)).toEqual({
      status: 200,
      body: { result: bytes.toString('base64') },
    })
    // Top-level OK stays OK (Upstash's documented exception); integers raw; nil null.
    expect((await post('/', ['SET', 'p:c', 'é'], b64)).body).toEqual({ result: 'OK' })
    const script = "return {1, 'OK', 'é', {2, 'x', false}, redis.call('GET', KEYS[1])}"
    expect((await post('/', ['EVAL', script, 1, 'p:c'], b64)).body).toEqual({
      result: [1, 'T0s=', 'w6k=', [2, 'eA==', null], 'w6k='],
    })
    // Errors stay plain text.
    expect((await post('/', ['HGET', 'p:str', 'f'], b64)).body.error).toMatch(/^WRONGTYPE/)
    const pipe = await post(
      '/pipeline',
      [
        ['GET', 'p:c'],
        ['INCR', 'p:str'],
        ['SET', 'p:d', '1'],
      ],
      b64,
    )
    expect(pipe.body).toEqual([
      { result: 'w6k=' },
      { error: 'ERR value is not an integer or out of range' },
      { result: 'OK' },
    ])
  })

  it('serves the path form, URL-decoded, with the POST body as last argument', async () => {
    expect(await call('/set/p:path%2Fone/a%20b%20%C3%A9')).toEqual({
      status: 200,
      body: { result: 'OK' },
    })
    expect(await direct.get('p:path/one')).toBe('a b é')
    expect(await call('/get/p:path%2Fone')).toEqual({ status: 200, body: { result: 'a b é' } })
    expect(await call('/set/p:json?EX=100', '{"x":[1,2]}')).toEqual({
      status: 200,
      body: { result: 'OK' },
    })
    expect(await direct.get('p:json')).toBe('{"x":[1,2]}')
    expect(await direct.ttl('p:json')).toBeGreaterThan(90)
    expect(await call('/zadd/p:z/1/one/2/two')).toEqual({ status: 200, body: { result: 2 } })
    expect(await call('/zrange/p:z/0/-1?WITHSCORES')).toEqual({
      status: 200,
      body: { result: ['one', '1', 'two', '2'] },
    })
    expect((await call('/get/p:x%zz')).status).toBe(400)
  })

  it('answers pipelines per command and transactions atomically', async () => {
    expect(
      (
        await post('/pipeline', [
          ['SET', 'p:q', '1'],
          ['INCR', 'p:q'],
          ['HSET', 'p:q', 'f', 'v'],
          ['GET', 'p:q'],
        ])
      ).body,
    ).toEqual([
      { result: 'OK' },
      { result: 2 },
      { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
      { result: '2' },
    ])
    expect(
      await post('/multi-exec', [
        ['SET', 'p:t', '1'],
        ['INCR', 'p:t'],
        ['LPUSH', 'p:t', 'x'],
      ]),
    ).toEqual({
      status: 200,
      body: [
        { result: 'OK' },
        { result: 2 },
        { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
      ],
    })
    // A queue-time error discards the whole transaction.
    const aborted = await post('/multi-exec', [['SET', 'p:t2', '1'], ['GET']])
    expect(aborted.status).toBe(400)
    expect(aborted.body.error).toMatch(/^EXECABORT .*wrong number of arguments for 'get' command/)
    expect(await direct.exists('p:t2')).toBe(0)
  })

  it('keeps 50 concurrent transactions from interleaving, amid non-transactional writes', async () => {
    await direct.del('p:ca', 'p:cb')
    // 100 plain INCRs of b race the transactions; inside a transaction, nothing may run between GET b and INCR b.
    const plain = Array.from({ length: 100 }, () => post('/', ['INCR', 'p:cb']))
    const transactions = Array.from({ length: 50 }, () =>
      post('/multi-exec', [
        ['GET', 'p:cb'],
        ['INCR', 'p:cb'],
        ['INCR', 'p:ca'],
      ]),
    )
    const results = await Promise.all(transactions)
    expect((await Promise.all(plain)).every((r) => r.status === 200)).toBe(true)
    const order = results.map(({ status, body }) => {
      expect(status).toBe(200)
      const [before, after, a] = body.map((e: { result: unknown }) => e.result)
      expect(after).toBe(Number(before ?? 0) + 1)
      return a as number
    })
    expect(order.sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(await direct.mget('p:ca', 'p:cb')).toEqual(['50', '150'])
  })
})

describe('gateway auth', () => {
  it("answers 401 with Upstash's body for a missing or wrong token", async () => {
    const unauthorized = { status: 401, body: { error: 'WRONGPASS invalid or missing auth token' } }
    expect(await post('/', ['SET', 'a:1', 'x'], { token: null })).toEqual(unauthorized)
    expect(await post('/', ['SET', 'a:1', 'x'], { token: 'wrong-token-0123456789abcdef' })).toEqual(
      unauthorized,
    )
    expect(await post('/', ['SET', 'a:1', 'x'], { token: TOKEN.slice(0, -1) })).toEqual(
      unauthorized,
    )
    expect(
      await post('/', ['SET', 'a:1', 'x'], {
        token: null,
        headers: { authorization: `Basic ${TOKEN}` },
      }),
    ).toEqual(unauthorized)
    expect(await post('/pipeline', [['SET', 'a:1', 'x']], { token: null })).toEqual(unauthorized)
    expect(await post('/multi-exec', [['SET', 'a:1', 'x']], { token: 'nope' })).toEqual(
      unauthorized,
    )
    expect(await call('/set/a:1/x', undefined, { token: null })).toEqual(unauthorized)
    expect(await direct.exists('a:1')).toBe(0)
    expect(await post('/', ['SET', 'a:2', 'x'], { token: TOKEN_2 })).toEqual({
      status: 200,
      body: { result: 'OK' },
    })
  })

  it('lets read-only tokens read and nothing else', async () => {
    await direct.set('a:r', 'v')
    const ro = { token: READ_TOKEN }
    expect(await post('/', ['GET', 'a:r'], ro)).toEqual({ status: 200, body: { result: 'v' } })
    for (const command of [
      ['SET', 'a:w', 'x'],
      ['DEL', 'a:r'],
      ['EVAL', "return redis.call('SET','a:w','x')", 0],
      ['SCRIPT', 'LOAD', 'return 1'],
    ]) {
      const res = await post('/', command, ro)
      expect(res.status).toBe(400)
      expect(res.body.error).toMatch(/^NOPERM .*'/)
    }
    expect(await call('/set/a:w/x', undefined, ro)).toMatchObject({ status: 400 })
    const pipe = await post(
      '/pipeline',
      [
        ['GET', 'a:r'],
        ['SET', 'a:w', 'x'],
      ],
      ro,
    )
    expect(pipe.body[0]).toEqual({ result: 'v' })
    expect(pipe.body[1].error).toMatch(/^NOPERM/)
    expect(
      (
        await post(
          '/multi-exec',
          [
            ['GET', 'a:r'],
            ['SET', 'a:w', 'x'],
          ],
          ro,
        )
      ).status,
    ).toBe(400)
    expect(await direct.exists('a:w')).toBe(0)
    expect(await direct.get('a:r')).toBe('v')
  })
})

describe('gateway input validation', () => {
  const bigValue = 'x'.repeat(1024 * 1024 + 10)

  it.each([
    ['malformed JSON', '/', '["SET","bad:1","x"'],
    ['a JSON object', '/', '{"command":["SET","bad:1","x"]}'],
    ['a JSON string', '/', '"SET bad:1 x"'],
    ['null', '/', 'null'],
    ['an empty body', '/', ''],
    ['an empty array', '/', '[]'],
    ['a numeric command name', '/', '[42,"bad:1","x"]'],
    ['an object argument', '/', '["SET","bad:1",{"a":1}]'],
    ['an array argument', '/', '["SET","bad:1",["x"]]'],
    ['a null argument', '/', '["SET","bad:1",null]'],
    [
      'too many arguments',
      '/',
      JSON.stringify(['MSET', ...Array.from({ length: 1000 }, (_, i) => `bad:${i}`)]),
    ],
    ['invalid UTF-8', '/', Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d])],
    ['a pipeline that is not an array of arrays', '/pipeline', '[["SET","bad:1","x"],"GET"]'],
    ['an empty pipeline', '/pipeline', '[]'],
    ['a pipeline with a null argument', '/pipeline', '[["SET","bad:1","x"],["SET","bad:2",null]]'],
    [
      'too many pipeline commands',
      '/pipeline',
      JSON.stringify(Array.from({ length: 1001 }, (_, i) => ['SET', `bad:${i}`, 'x'])),
    ],
    [
      'too many transaction commands',
      '/multi-exec',
      JSON.stringify(Array.from({ length: 1001 }, (_, i) => ['SET', `bad:${i}`, 'x'])),
    ],
    ['a transaction with a nested array', '/multi-exec', '[["SET","bad:1",[1]]]'],
    ['a body over maxBodyBytes', '/', JSON.stringify(['SET', 'bad:1', bigValue])],
  ])('refuses %s with a 4xx JSON error and runs nothing', async (_name, path, body) => {
    const res = await call(path, body as BodyInit)
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(res.body).toEqual({ error: expect.stringMatching(/^ERR /) })
    expect(await direct.exists('bad:0', 'bad:1', 'bad:2')).toBe(0)
  })

  it('refuses a body over maxBodyBytes while reading it when Content-Length is absent', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('["SET","bad:1","'))
        if (sent++ < 40) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const res = await fetch(gw.url + '/', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({
      error: expect.stringMatching(/exceeds the limit of 1048576 bytes/),
    })
    expect(await direct.exists('bad:1')).toBe(0)
  })

  it('refuses every dangerous, stateful or unknown command, naming it', async () => {
    await direct.set('canary', 'alive')
    const refused = [
      ['FLUSHALL'],
      ['FLUSHDB'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['CONFIG', 'GET', '*'],
      ['DEBUG', 'SLEEP', '1'],
      ['SHUTDOWN', 'NOSAVE'],
      ['KEYS', '*'],
      ['MONITOR'],
      ['SCRIPT', 'FLUSH'],
      ['SCRIPT', 'KILL'],
      ['SLAVEOF', 'NO', 'ONE'],
      ['REPLICAOF', '127.0.0.1', '1'],
      ['CLUSTER', 'RESET'],
      ['CLUSTER', 'FAILOVER'],
      ['ACL', 'SETUSER', 'x'],
      ['MIGRATE', '127.0.0.1', '1', 'canary', '0', '100'],
      ['MODULE', 'LOAD', '/x.so'],
      ['SAVE'],
      ['BGSAVE'],
      ['BGREWRITEAOF'],
      ['CLIENT', 'KILL', 'TYPE', 'normal'],
      ['SUBSCRIBE', 'c'],
      ['PSUBSCRIBE', 'c*'],
      ['SELECT', '1'],
      ['MULTI'],
      ['EXEC'],
      ['WATCH', 'canary'],
      ['BLPOP', 'l', '0'],
      ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'],
      ['WAIT', '0', '0'],
      ['NOSUCHCOMMAND', 'x'],
    ]
    for (const command of refused) {
      const res = await post('/', command)
      expect(res.status, command.join(' ')).toBe(400)
      const withSubcommand = [
        'CONFIG',
        'SCRIPT',
        'CLUSTER',
        'ACL',
        'MODULE',
        'DEBUG',
        'CLIENT',
      ].includes(command[0]!)
      const named = (withSubcommand ? `${command[0]} ${command[1]}` : command[0]!).toLowerCase()
      expect(res.body.error, command.join(' ')).toContain(`'${named}'`)
    }
    expect((await post('/', ['MULTI'])).body.error).toMatch(/POST \/multi-exec/)
    expect(await direct.get('canary')).toBe('alive')
    expect(await direct.config('GET', 'maxmemory')).toEqual(['maxmemory', '0'])
    expect((await post('/', ['WAIT', '0', '100'])).body).toEqual({ result: 0 })
  })

  it('answers 405 for other methods', async () => {
    const res = await call('/get/x', undefined, { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.body.error).toMatch(/method not allowed/)
  })

  it('marks every answer JSON and never cached, whatever route or status gave it', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` }
    const asked: [string, RequestInit, number][] = [
      ['/', { method: 'POST', headers: auth, body: '["GET","x"]' }, 200],
      ['/pipeline', { method: 'POST', headers: auth, body: '[["GET","x"]]' }, 200],
      ['/multi-exec', { method: 'POST', headers: auth, body: '[["GET","x"]]' }, 200],
      ['/get/x', { headers: auth }, 200],
      ['/get/x', { method: 'HEAD', headers: auth }, 200],
      ['/', { method: 'POST', headers: auth, body: '["FLUSHALL"]' }, 400],
      ['/', { method: 'POST', headers: auth, body: 'not json' }, 400],
      ['/', { method: 'POST', body: '["GET","x"]' }, 401],
      ['/get/x', {}, 401],
      ['/', { method: 'POST', headers: auth, body: 'x'.repeat(1024 * 1024 + 1) }, 413],
    ]
    for (const [path, init, status] of asked) {
      const res = await fetch(gw.url + path, init)
      const what = `${init.method ?? 'GET'} ${path} -> ${res.status}`
      expect(res.status, what).toBe(status)
      expect(res.headers.get('cache-control'), what).toBe('no-store')
      expect(res.headers.get('content-type'), what).toBe('application/json')
      await res.arrayBuffer()
    }
  })
})

describe('gateway configuration and lifecycle', () => {
  it('validates options at creation, naming the option', () => {
    expect(() => createGateway({ redis, tokens: [] })).toThrow(/"tokens"/)
    expect(() => createGateway({ redis, tokens: ['short'] })).toThrow(/at least 16/)
    expect(() => createGateway({ redis, tokens: [TOKEN], readOnlyTokens: [TOKEN] })).toThrow(/both/)
    expect(() => createGateway({ redis, tokens: [TOKEN], allowCommands: ['MULTI'] })).toThrow(
      /"allowCommands" cannot enable MULTI/,
    )
    expect(() => createGateway({ redis, tokens: [TOKEN], timeoutMs: 0 })).toThrow(/"timeoutMs"/)
    const resp3 = new Redis({ port: server.port, lazyConnect: true })
    expect(() => createGateway({ redis: resp3, tokens: [TOKEN] })).toThrow(/RESP2/)
    resp3.disconnect()
  })

  it('applies allowCommands and denyCommands', async () => {
    const custom = await listen(
      createGateway({
        redis,
        tokens: [TOKEN],
        allowCommands: ['dbsize', 'memory doctor'],
        denyCommands: ['EVAL'],
      }),
      { port: 0 },
    )
    try {
      const at = () => custom.url
      expect((await call('/', JSON.stringify(['DBSIZE']), {}, at)).status).toBe(200)
      expect((await call('/', JSON.stringify(['MEMORY', 'DOCTOR']), {}, at)).body.result).toEqual(
        expect.any(String),
      )
      // one subcommand opened, not its siblings
      expect((await call('/', JSON.stringify(['MEMORY', 'PURGE']), {}, at)).status).toBe(400)
      expect(
        (await call('/', JSON.stringify(['EVAL', 'return 1', 0]), {}, at)).body.error,
      ).toContain("'eval'")
    } finally {
      await custom.stop()
    }
  })

  it('answers 504 when Redis does not answer within timeoutMs, and keeps serving', async () => {
    const slow = await listen(
      createGateway({ redis, tokens: [TOKEN], timeoutMs: 300, scriptPolicy: 'any' }),
      {
        port: 0,
      },
    )
    try {
      const busy =
        "local s = redis.call('TIME') repeat local n = redis.call('TIME') until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 800000 return 1"
      const started = Date.now()
      const res = await call('/', JSON.stringify(['EVAL', busy, 0]), {}, () => slow.url)
      expect(Date.now() - started).toBeLessThan(700)
      expect(res.status).toBe(504)
      expect(res.body.error).toMatch(/^ERR gateway timeout/)
      await new Promise((r) => setTimeout(r, 700))
      expect((await call('/', JSON.stringify(['PING']), {}, () => slow.url)).body).toEqual({
        result: 'PONG',
      })
    } finally {
      await slow.stop()
    }
  })

  it('drains requests in flight on stop and refuses new ones', async () => {
    const gateway = createGateway({ redis, tokens: [TOKEN], scriptPolicy: 'any' })
    const running = await listen(gateway, { port: 0 })
    const busy =
      "local s = redis.call('TIME') repeat local n = redis.call('TIME') until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 300000 return 'done'"
    const inFlight = call('/', JSON.stringify(['EVAL', busy, 0]), {}, () => running.url)
    await new Promise((r) => setTimeout(r, 100))
    const stopped = running.stop()
    const refused = await gateway.app.request('/', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '["PING"]',
    })
    expect(refused.status).toBe(503)
    expect(await inFlight).toEqual({ status: 200, body: { result: 'done' } })
    await stopped
  })
})
