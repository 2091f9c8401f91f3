/**
 * A leaked read-write gateway token must not own the whole Redis (gateway issue, items 1 and 2;
 * SECURITY.md attack 14): arbitrary Lua through EVAL, a runaway script, COPY into another
 * database, and the ACL user the gateway should connect as, with Redis itself refusing.
 */
import { Redis as Upstash } from '@upstash/redis'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, listen, type RunningGateway } from '../../../src/gateway/index.js'
import { connectRedis } from '../../../src/store/ioredis-connect.js'
import { SCRIPTS } from '../../../src/store/redis/scripts.js'
import { startRedis, stopAll, type RedisServer } from '../../helpers/redis.js'

const TOKEN = 'rw-token-attack-0123456789'

let server: RedisServer
let direct: Redis
beforeAll(async () => {
  server = await startRedis()
  direct = new Redis({ port: server.port, host: server.host })
})
afterAll(async () => {
  direct.disconnect()
  await stopAll()
})

async function gatewayOn(options: Parameters<typeof createGateway>[0]) {
  const running = await listen(createGateway(options), { host: '127.0.0.1', port: 0 })
  const post = async (path: string, body: unknown) => {
    const res = await fetch(running.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  return { running, post }
}

const FLUSH_OTHER_DB = "redis.call('select','5') return redis.call('flushdb')"
const LIST_KEYS = "return redis.call('keys','sess:*')"
const MIGRATE = "return redis.call('migrate','127.0.0.1','1','',0,100,'KEYS','sess:x')"
const LOOP = 'local i=0 while i<3e9 do i=i+1 end return i'

describe('attack: EVAL owns Redis through the gateway', () => {
  let gw: RunningGateway
  let post: Awaited<ReturnType<typeof gatewayOn>>['post']
  let redis: Redis
  beforeAll(async () => {
    redis = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} }) as Redis
    ;({ running: gw, post } = await gatewayOn({ redis, tokens: [TOKEN] }))
  })
  afterAll(async () => {
    await gw.stop()
    redis.disconnect()
  })

  it('by default only registered scripts run: on /, /pipeline and /multi-exec', async () => {
    const other = new Redis({ port: server.port, host: server.host, db: 5 })
    await other.set('precious', 'kept')
    await direct.set('sess:x', 'v')
    for (const script of [FLUSH_OTHER_DB, LIST_KEYS, MIGRATE, LOOP]) {
      const one = await post('/', ['EVAL', script, '0'])
      expect([script, one.status]).toEqual([script, 400])
      expect(one.body.error).toMatch(/^NOPERM .*not registered/)
      const piped = await post('/pipeline', [['EVAL', script, '0'], ['PING']])
      expect(piped.body[0].error).toMatch(/^NOPERM/)
      expect(piped.body[1]).toEqual({ result: 'PONG' })
      const multi = await post('/multi-exec', [['EVAL', script, '0']])
      expect(multi.status).toBe(400)
      expect(multi.body.error).toMatch(/^EXECABORT .*NOPERM/)
      const sha = (await direct.script('LOAD', script)) as string
      expect((await post('/', ['EVALSHA', sha, '0'])).body.error).toMatch(/^NOPERM/)
      expect((await post('/', ['SCRIPT', 'LOAD', script])).body.error).toMatch(/^NOPERM/)
    }
    expect(await other.get('precious')).toBe('kept')
    expect(await direct.ping()).toBe('PONG')
    other.disconnect()
  })

  it("the session scripts are registered: the official client's EVALSHA of one runs", async () => {
    const client = new Upstash({ url: gw.url, token: TOKEN, automaticDeserialization: false })
    const sha = await client.scriptLoad(SCRIPTS.hit.source)
    const reply = await client.evalsha(sha, ['sess:{u}:h:n'], ['60000', '1', '', ''])
    expect(reply).toEqual([1, 1, 60000])
    await expect(client.eval("return 'x'", [], [])).rejects.toThrow(/NOPERM/)
  })

  it('COPY ... DB n is refused: it would write into another database', async () => {
    await direct.set('sess:src', 'v')
    const res = await post('/', ['COPY', 'sess:src', 'sess:dst', 'DB', '5'])
    expect(res.status).toBe(400)
    expect(res.body.error).toMatch(/'copy' with DB/)
    const other = new Redis({ port: server.port, host: server.host, db: 5 })
    expect(await other.exists('sess:dst')).toBe(0)
    other.disconnect()
  })
})

describe('attack: a runaway script makes every Redis client get BUSY', () => {
  it('with GATEWAY_SCRIPTS=any, the script is killed at the deadline and Redis serves again', async () => {
    // Redis takes SCRIPT KILL (and answers anyone) only once a script ran lua-time-limit
    // (busy-reply-threshold in 7.x) ms: the README says to keep it below the gateway deadline
    await direct.config('SET', 'lua-time-limit', '400')
    const redis = connectRedis({
      url: server.url,
      commandTimeoutMs: 5000,
      stringNumbers: true,
      logger: () => {},
    })
    const { running, post } = await gatewayOn({
      redis,
      tokens: [TOKEN],
      scriptPolicy: 'any',
      timeoutMs: 500,
    })
    try {
      const started = Date.now()
      const res = await post('/', ['EVAL', LOOP, '0'])
      expect(res.status).toBe(504)
      const timedOut = Date.now()
      // another client: within one more deadline Redis answers again instead of BUSY
      let answered = false
      while (!answered && Date.now() - started < 1500) {
        answered = await direct.ping().then(
          () => true,
          (err: Error) => (/BUSY/.test(err.message) ? false : Promise.reject(err)),
        )
        if (!answered) await new Promise((r) => setTimeout(r, 20))
      }
      expect(answered).toBe(true)
      expect(Date.now() - timedOut).toBeLessThan(500)
    } finally {
      await running.stop()
      redis.disconnect()
    }
  })
})

describe('the ACL user the gateway should connect as (README) refuses inside Lua too', () => {
  it('flushdb, select, migrate and keys from a script are refused by Redis itself', async () => {
    // exactly the README's ACL, applied with the CLI as an operator would
    for (const line of [
      ['ACL', 'SETUSER', 'gateway', 'reset'],
      [
        'ACL',
        'SETUSER',
        'gateway',
        'on',
        '>gateway-password-0123',
        '~sess:*',
        '+@read',
        '+@write',
        '+@scripting',
        '-@dangerous',
        '+ping',
        '+info',
        '+role',
        '-select',
        '-migrate',
        '-keys',
      ],
    ])
      await direct.call(line[0]!, ...line.slice(1))
    const redis = connectRedis({
      url: `redis://gateway:gateway-password-0123@${server.host}:${server.port}`,
      stringNumbers: true,
      logger: () => {},
    })
    const { running, post } = await gatewayOn({ redis, tokens: [TOKEN], scriptPolicy: 'any' })
    try {
      const other = new Redis({ port: server.port, host: server.host, db: 5 })
      await other.set('precious', 'kept')
      for (const script of [FLUSH_OTHER_DB, LIST_KEYS, MIGRATE, "return redis.call('flushdb')"]) {
        const res = await post('/', ['EVAL', script, '0'])
        expect([script, res.status]).toEqual([script, 400])
        // Redis 6 and 7 word it differently; both are the ACL refusing
        expect(res.body.error).toMatch(/NOPERM|no permissions|can't run this command/i)
      }
      expect(await other.get('precious')).toBe('kept')
      // the session store's own work still runs as that user
      expect(
        (await post('/', ['EVAL', SCRIPTS.claim.source, '1', 'sess:{u}:c:x', '1000', ''])).body,
      ).toEqual({ result: 1 })
      other.disconnect()
    } finally {
      await running.stop()
      redis.disconnect()
    }
  })
})
