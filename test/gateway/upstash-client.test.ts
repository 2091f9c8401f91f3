/**
 * The official @upstash/redis client, unmodified, through the gateway to a real standalone
 * redis-server and a real Redis Cluster. Results are compared with what ioredis reads directly.
 *
 * Client variants: defaults (base64 responses, JSON deserialization, auto-pipelining, so most
 * commands travel as /pipeline), `automaticDeserialization: false`, `responseEncoding: false`
 * (no base64), and `enableAutoPipelining: false` (every command on POST /).
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis as Upstash } from '@upstash/redis'
import { Cluster, Redis } from 'ioredis'
import { createGateway, listen, type RunningGateway } from '../../src/gateway/index.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { startCluster, startRedis, stopAll } from '../helpers/redis.js'

const TOKEN = 'client-test-token-0123456789'

afterAll(stopAll)

const variants = {
  defaults: {},
  raw: { automaticDeserialization: false },
  plain: { responseEncoding: false as const },
  unpipelined: { enableAutoPipelining: false },
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex')

describe.each(['standalone', 'cluster'] as const)(
  '@upstash/redis through the gateway (%s)',
  (topology) => {
    let redis: Redis | Cluster
    let direct: Redis | Cluster
    let gw: RunningGateway

    beforeAll(async () => {
      if (topology === 'standalone') {
        const server = await startRedis()
        redis = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
        direct = new Redis({ host: server.host, port: server.port, protocol: 2 })
      } else {
        const cluster = await startCluster()
        redis = connectRedis({
          cluster: cluster.startupNodes,
          stringNumbers: true,
          logger: () => {},
        })
        direct = new Cluster(cluster.startupNodes, { redisOptions: { protocol: 2 } })
      }
      gw = await listen(createGateway({ redis, tokens: [TOKEN], scriptPolicy: 'any' }), { port: 0 })
    })

    afterAll(async () => {
      await gw?.stop()
      redis?.disconnect()
      direct?.disconnect()
    })

    describe.each(Object.entries(variants))('client with %s', (variant, options) => {
      let u: Upstash
      // One hash tag per variant: every key of a test lives in one Cluster slot.
      const k = (name: string) => `{${topology}-${variant}}:${name}`
      const raw = variant === 'raw'
      const parse = (v: string) => (raw ? v : JSON.parse(v))

      beforeAll(() => {
        u = new Upstash({ url: gw.url, token: TOKEN, ...options })
      })

      it('strings', async () => {
        expect(await u.set(k('s'), 'hello')).toBe('OK')
        expect(await u.get(k('s'))).toBe('hello')
        expect(await u.set(k('u'), 'héllo 🌍 "quoted" \\ back')).toBe('OK')
        expect(await u.get(k('u'))).toBe(await direct.get(k('u')))
        await u.set(k('j'), { a: 1, b: [true, null, 'x'] })
        expect(await direct.get(k('j'))).toBe('{"a":1,"b":[true,null,"x"]}')
        expect(await u.get(k('j'))).toEqual(parse('{"a":1,"b":[true,null,"x"]}'))
        expect(await u.incr(k('n'))).toBe(1)
        expect(await u.incrby(k('n'), 41)).toBe(42)
        expect(await u.get(k('n'))).toEqual(parse('42'))
        expect(await u.get(k('missing'))).toBeNull()
        expect(await u.mget(k('s'), k('n'))).toEqual(['hello', parse('42')])
        expect(await u.set(k('nx'), 'v', { nx: true })).toBe('OK')
        expect(await u.set(k('nx'), 'w', { nx: true })).toBeNull()
      })

      it('hashes', async () => {
        expect(await u.hset(k('h'), { f1: 'v1', f2: 2, f3: { deep: true } })).toBe(3)
        const flat = await direct.call('HGETALL', k('h'))
        expect(flat).toEqual(['f1', 'v1', 'f2', '2', 'f3', '{"deep":true}'])
        expect(await u.hgetall(k('h'))).toEqual(
          raw ? flat : { f1: 'v1', f2: 2, f3: { deep: true } },
        )
        expect(await u.hget(k('h'), 'f2')).toEqual(parse('2'))
        expect(await u.hdel(k('h'), 'f1', 'nope')).toBe(1)
        expect(await u.hlen(k('h'))).toBe(2)
        expect(await u.hgetall(k('absent'))).toEqual(raw ? [] : null)
      })

      it('sorted sets', async () => {
        expect(
          await u.zadd(
            k('z'),
            { score: 1, member: 'a' },
            { score: 2.5, member: 'b' },
            { score: 3, member: 'c' },
          ),
        ).toBe(3)
        expect(await u.zrange(k('z'), 0, -1)).toEqual(
          await direct.call('ZRANGE', k('z'), '0', '-1'),
        )
        const withScores = await direct.call('ZRANGE', k('z'), '0', '-1', 'WITHSCORES')
        expect(withScores).toEqual(['a', '1', 'b', '2.5', 'c', '3'])
        expect(await u.zrange(k('z'), 0, -1, { withScores: true })).toEqual(
          raw ? withScores : ['a', 1, 'b', 2.5, 'c', 3],
        )
        expect(await u.zscore(k('z'), 'b')).toEqual(parse('2.5'))
        expect(await u.zremrangebyscore(k('z'), 0, 1)).toBe(1)
        expect(await u.zrem(k('z'), 'b', 'nope')).toBe(1)
        expect(await u.zrange(k('z'), 0, -1)).toEqual(['c'])
        expect(await u.zcard(k('z'))).toBe(1)
      })

      it('expiry and keys', async () => {
        await u.set(k('e1'), 'v')
        await u.set(k('e2'), 'v', { px: 60_000 })
        expect(await u.pexpire(k('e1'), 30_000)).toBe(1)
        const pttl = await u.pttl(k('e1'))
        expect(pttl).toBeGreaterThan(29_000)
        expect(pttl).toBeLessThanOrEqual(30_000)
        expect(Math.abs(pttl - (await direct.pttl(k('e1'))))).toBeLessThan(1000)
        expect(await u.pttl(k('missing'))).toBe(-2)
        expect(await u.exists(k('e1'), k('e2'), k('missing'))).toBe(2)
        expect(await u.del(k('e1'), k('e2'), k('missing'))).toBe(2)
        expect(await direct.exists(k('e1'), k('e2'))).toBe(0)
      })

      it('pipelines', async () => {
        const p = u.pipeline()
        p.set(k('p1'), 'x').incr(k('p2')).get(k('p1')).hset(k('p3'), { f: 'v' }).hgetall(k('p3'))
        expect(await p.exec()).toEqual(['OK', 1, 'x', 1, raw ? ['f', 'v'] : { f: 'v' }])
        const failing = u.pipeline()
        failing.set(k('p4'), 'y').hget(k('p1'), 'f').get(k('p4'))
        await expect(failing.exec()).rejects.toThrow(/WRONGTYPE/)
        expect(await direct.get(k('p4'))).toBe('y') // not atomic: the other commands ran
        const kept = u.pipeline()
        kept.hget(k('p1'), 'f').get(k('p4'))
        expect(await kept.exec({ keepErrors: true })).toEqual([
          {
            error: 'WRONGTYPE Operation against a key holding the wrong kind of value',
            result: undefined,
          },
          { error: undefined, result: 'y' },
        ])
      })

      it('transactions', async () => {
        const tx = u.multi()
        tx.set(k('t'), 1).incr(k('t')).get(k('t')).zadd(k('tz'), { score: 1, member: 'm' })
        expect(await tx.exec()).toEqual(['OK', 2, parse('2'), 1])
        const failing = u.multi()
        failing.set(k('t2'), 'a').incr(k('t2'))
        await expect(failing.exec()).rejects.toThrow(/not an integer/)
        expect(await direct.get(k('t2'))).toBe('a') // EXEC ran the SET; INCR failed at run time
      })

      it('scripts, including the NOSCRIPT fallback', async () => {
        expect(await u.eval('return ARGV[1]', [], ['hi'])).toBe('hi')
        expect(await u.eval("return {1, 'two', {3}}", [], [])).toEqual([1, 'two', [3]])
        const src = `return redis.call('SET', KEYS[1], ARGV[1]) -- ${topology} ${variant}`
        const sha = await u.scriptLoad(src)
        expect(sha).toBe(sha1(src))
        expect(await u.scriptExists(sha, sha1('never loaded'))).toEqual([1, 0])
        expect(await u.evalsha(sha, [k('x')], ['v'])).toBe('OK')
        expect(await direct.get(k('x'))).toBe('v')
        await expect(u.evalsha(sha1('unknown'), [k('x')], [])).rejects.toThrow(/NOSCRIPT/)
        // createScript: EVALSHA first, NOSCRIPT, then EVAL, then EVALSHA hits the cache.
        const fresh = `return redis.call('INCR', KEYS[1]) -- fresh ${topology} ${variant} ${Date.now()}`
        const script = u.createScript<number>(fresh)
        expect(await script.exec([k('cnt')], [])).toBe(1)
        expect(await script.exec([k('cnt')], [])).toBe(2)
        expect(await script.evalsha([k('cnt')], [])).toBe(3)
      })
    })
  },
)
