/**
 * Integers beyond 2^53 (gateway issue, item 6): every integer reply reaches the client with
 * exactly the digits Redis sent, on `/`, `/pipeline`, `/multi-exec`, the path form, inside
 * arrays and in base64 mode, on a standalone server and on a Cluster. The reference is what
 * Redis sent, read with `redis-cli` (text, no JavaScript number in between).
 *
 * The official client parses the body with `JSON.parse`, which rounds such numbers itself:
 * checked too, so the README can say exactly what a JavaScript caller gets.
 */
import { Redis as Upstash } from '@upstash/redis'
import { Cluster, Redis as IORedis } from 'ioredis'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, listen, type RunningGateway } from '../../src/gateway/index.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { startCluster, startRedis, stopAll, type RedisServer } from '../helpers/redis.js'

const TOKEN = 'int-token-0123456789abcdef'
const TWO_53_PLUS_1 = '9007199254740993'
const INT64_MAX = '9223372036854775807'
const INT64_MIN = '-9223372036854775808'

afterAll(stopAll)

describe.each(['standalone', 'cluster'] as const)('exact integers (%s)', (topology) => {
  let redis: Redis | Cluster
  let gw: RunningGateway
  /** Sets and reads values (strings: exact whatever the client) without the gateway. */
  let direct: IORedis | Cluster
  /** A node for redis-cli (keyless commands only). */
  let node: RedisServer
  const k = (name: string) => `{int-${topology}}:${name}`

  beforeAll(async () => {
    if (topology === 'standalone') {
      node = await startRedis()
      redis = connectRedis({ url: node.url, stringNumbers: true, logger: () => {} })
      direct = new IORedis({ port: node.port, host: node.host, protocol: 2 })
    } else {
      const cluster = await startCluster()
      redis = connectRedis({ cluster: cluster.startupNodes, stringNumbers: true, logger: () => {} })
      direct = new Cluster(cluster.startupNodes, { redisOptions: { protocol: 2 } })
      node = cluster.masters[0]!
    }
    gw = await listen(createGateway({ redis, tokens: [TOKEN], scriptPolicy: 'any' }), { port: 0 })
  })

  afterAll(async () => {
    await gw?.stop()
    redis?.disconnect()
    direct?.disconnect()
  })

  /** The raw response body: the digits are checked in the text, before any JSON.parse. */
  async function raw(path: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(gw.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    return { status: res.status, text: await res.text() }
  }

  it('INCRBY to 2^53 + 1 and to 2^63 - 1, and the negative extreme, on POST /', async () => {
    await direct.set(k('a'), '9007199254740992')
    expect(await raw('/', ['INCRBY', k('a'), 1])).toEqual({
      status: 200,
      text: `{"result":${TWO_53_PLUS_1}}`,
    })
    expect(await direct.get(k('a'))).toBe(TWO_53_PLUS_1)
    await direct.set(k('b'), '9223372036854775806')
    expect((await raw('/', ['INCR', k('b')])).text).toBe(`{"result":${INT64_MAX}}`)
    expect((await raw('/', ['INCR', k('b')])).text).toBe(
      '{"error":"ERR increment or decrement would overflow"}',
    )
    await direct.set(k('c'), '-9223372036854775807')
    expect((await raw('/', ['DECR', k('c')])).text).toBe(`{"result":${INT64_MIN}}`)
    expect((await raw('/', ['DECRBY', k('c'), '-1'])).text).toBe('{"result":-9223372036854775807}')
    // small integers and the other reply types are unchanged
    expect((await raw('/', ['INCRBY', k('small'), 5])).text).toBe('{"result":5}')
    expect((await raw('/', ['INCRBY', k('small'), -7])).text).toBe('{"result":-2}')
    expect((await raw('/', ['GET', k('a')])).text).toBe(`{"result":"${TWO_53_PLUS_1}"}`)
    expect((await raw('/', ['GET', k('missing')])).text).toBe('{"result":null}')
    expect((await raw('/', ['SET', k('s'), 'é "q" \\'])).text).toBe('{"result":"OK"}')
    expect((await raw('/', ['GET', k('s')])).text).toBe('{"result":"é \\"q\\" \\\\"}')
  })

  it('integers inside arrays: BITFIELD i64/u63 and a script returning 2^62', async () => {
    const bits = await raw('/', [
      'BITFIELD', k('bits'),
      'SET', 'i64', '0', INT64_MAX,
      'GET', 'i64', '0',
      'SET', 'i64', '64', INT64_MIN,
      'GET', 'i64', '64',
      'INCRBY', 'u63', '128', '9223372036854775807',
    ]) // prettier-ignore
    expect(bits.text).toBe(`{"result":[0,${INT64_MAX},0,${INT64_MIN},${INT64_MAX}]}`)
    // Lua numbers are doubles (Redis converts them), so a script returns 2^62 exactly: what
    // Redis sent is what the body says (4611686018427388000 is how JavaScript prints it)
    expect(await node.cli('EVAL', 'return {2^62, -2^62, {3, "x"}}', '0')).toMatch(
      /^4611686018427387904\n-4611686018427387904/,
    )
    expect((await raw('/', ['EVAL', 'return {2^62, -2^62, {3, "x"}}', 0])).text).toBe(
      '{"result":[4611686018427387904,-4611686018427387904,[3,"x"]]}',
    )
  })

  it('on /pipeline, /multi-exec, the path form and in base64 mode', async () => {
    await direct.set(k('p'), '9007199254740992')
    expect(
      (
        await raw('/pipeline', [
          ['INCRBY', k('p'), 1],
          ['GET', k('p')],
          ['HGET', k('p'), 'f'],
          ['INCRBY', k('p'), '9223372036854775807'],
        ])
      ).text,
    ).toBe(
      `[{"result":${TWO_53_PLUS_1}},{"result":"${TWO_53_PLUS_1}"},` +
        '{"error":"WRONGTYPE Operation against a key holding the wrong kind of value"},' +
        '{"error":"ERR increment or decrement would overflow"}]',
    )
    await direct.set(k('t'), '9223372036854775805')
    expect(
      (
        await raw('/multi-exec', [
          ['INCR', k('t')],
          ['INCR', k('t')],
          ['GET', k('t')],
        ])
      ).text,
    ).toBe(`[{"result":9223372036854775806},{"result":${INT64_MAX}},{"result":"${INT64_MAX}"}]`)
    await direct.set(k('path'), '9007199254740992')
    expect((await raw(`/incrby/${encodeURIComponent(k('path'))}/1`, undefined)).text).toBe(
      `{"result":${TWO_53_PLUS_1}}`,
    )
    // base64: strings are base64, integers stay JSON numbers with their digits
    const b64 = { 'Upstash-Encoding': 'base64' }
    await direct.set(k('b64'), '9223372036854775806')
    expect((await raw('/', ['INCR', k('b64')], b64)).text).toBe(`{"result":${INT64_MAX}}`)
    const encoded = Buffer.from(INT64_MAX).toString('base64')
    expect(
      (
        await raw(
          '/pipeline',
          [
            ['GET', k('b64')],
            ['DECR', k('b64')],
          ],
          b64,
        )
      ).text,
    ).toBe(`[{"result":"${encoded}"},{"result":9223372036854775806}]`)
    expect(
      (
        await raw(
          '/',
          ['BITFIELD', k('b64bits'), 'SET', 'i64', '0', INT64_MIN, 'GET', 'i64', '0'],
          b64,
        )
      ).text,
    ).toBe(`{"result":[0,${INT64_MIN}]}`)
  })

  it('the official client: JSON.parse rounds the number itself; the value as a string is exact', async () => {
    const u = new Upstash({ url: gw.url, token: TOKEN })
    await direct.set(k('u'), '9007199254740992')
    // the body carried 9007199254740993 (above); JavaScript's JSON.parse makes it a double
    expect(await u.incrby(k('u'), 1)).toBe(Number(TWO_53_PLUS_1))
    // automatic deserialization keeps a number it cannot represent as the string Redis stored
    expect(await u.get(k('u'))).toBe(TWO_53_PLUS_1)
    const rawClient = new Upstash({ url: gw.url, token: TOKEN, automaticDeserialization: false })
    expect(await rawClient.get(k('u'))).toBe(TWO_53_PLUS_1)
    const p = u.pipeline()
    p.incrby(k('u'), 2).get(k('u'))
    expect(await p.exec()).toEqual([9007199254740996, '9007199254740995'])
  })
})

describe('a client that would round integers', () => {
  it('is refused at creation, naming the option', () => {
    const numbers = new IORedis({ protocol: 2, lazyConnect: true })
    expect(() => createGateway({ redis: numbers, tokens: [TOKEN] })).toThrow(
      /"redis" must read integers as text \(`stringNumbers: true`/,
    )
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], {
      lazyConnect: true,
      redisOptions: { protocol: 2 },
    })
    expect(() => createGateway({ redis: cluster, tokens: [TOKEN] })).toThrow(/stringNumbers/)
    const exact = new Cluster([{ host: '127.0.0.1', port: 1 }], {
      lazyConnect: true,
      redisOptions: { protocol: 2, stringNumbers: true },
    })
    expect(() => createGateway({ redis: exact, tokens: [TOKEN] })).not.toThrow()
    numbers.disconnect()
    cluster.disconnect()
    exact.disconnect()
  })
})
