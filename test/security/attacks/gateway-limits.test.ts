/**
 * One request, or a few sockets, must not exhaust the gateway (gateway issue, items 3 and 4;
 * SECURITY.md attack 14): counts that build replies of any size, replies over the size cap,
 * headers trickled in forever, and more sockets than the cap. The memory figure is the peak RSS
 * of a gateway process of its own (`npm run gateway`), read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, listen } from '../../../src/gateway/index.js'
import { connectRedis } from '../../../src/store/ioredis-connect.js'
import { figures } from '../../helpers/load.js'
import { freePort, startRedis, stopAll, type RedisServer } from '../../helpers/redis.js'

const TOKEN = 'rw-token-limits-0123456789'
const READ_TOKEN = 'ro-token-limits-0123456789'

let server: RedisServer
let direct: Redis
beforeAll(async () => {
  server = await startRedis()
  direct = new Redis({ port: server.port, host: server.host })
  const fields = Array.from({ length: 1000 }, (_, i) => [`f${i}`, 'x'.repeat(100)]).flat()
  await direct.hset('sess:big', ...fields)
  await direct.sadd('sess:set', ...Array.from({ length: 1000 }, (_, i) => `m${i}`))
  await direct.zadd('sess:z', ...Array.from({ length: 1000 }, (_, i) => [i, `m${i}`]).flat())
  await direct.rpush('sess:list', ...Array.from({ length: 1000 }, (_, i) => `e${i}`))
})
afterAll(async () => {
  direct.disconnect()
  await stopAll()
})

/** The gateway as `npm run gateway` runs it; resolves once it listens. */
async function gatewayProcess(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/gateway/main.ts'], {
    env: {
      ...process.env,
      REDIS_URL: server.url,
      GATEWAY_TOKENS: TOKEN,
      GATEWAY_READONLY_TOKENS: READ_TOKEN,
      GATEWAY_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway did not start in 20 s')), 20_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)))
  })
  return { url: `http://127.0.0.1:${port}`, child }
}

/** Peak resident memory of a process, MB (VmHWM). */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m)!
  return Number(line[1]) / 1024
}

const post = (url: string, body: unknown, token = TOKEN) =>
  fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }))

describe('attack: one read-only request grows the gateway', () => {
  it(
    '50 parallel HRANDFIELD -3000000 WITHVALUES (and the RAND, POP, SCAN counts) are refused; peak RSS stays under 300 MB',
    { timeout: 60_000 },
    async () => {
      const { url, child } = await gatewayProcess()
      try {
        const before = peakRssMb(child.pid!)
        const flood = await Promise.all(
          Array.from({ length: 50 }, () =>
            post(url, ['HRANDFIELD', 'sess:big', '-3000000', 'WITHVALUES'], READ_TOKEN),
          ),
        )
        for (const res of flood) {
          expect(res.status).toBe(400)
          expect(res.body.error).toMatch(/limited to 10000.*GATEWAY_MAX_COUNT/)
        }
        for (const command of [
          ['SRANDMEMBER', 'sess:set', '-3000000'],
          ['ZRANDMEMBER', 'sess:z', '-3000000', 'WITHSCORES'],
          ['SCAN', '0', 'COUNT', '100000000'],
          ['SSCAN', 'sess:set', '0', 'COUNT', '100000000'],
          ['XRANGE', 'sess:stream', '-', '+', 'COUNT', '100000000'],
          ['LPOS', 'sess:list', 'e1', 'COUNT', '0'],
        ])
          expect([command[0], (await post(url, command, READ_TOKEN)).status]).toEqual([
            command[0],
            400,
          ])
        for (const command of [
          ['SPOP', 'sess:set', '3000000'],
          ['LPOP', 'sess:list', '3000000'],
          ['ZPOPMIN', 'sess:z', '3000000'],
        ])
          expect([command[0], (await post(url, command)).status]).toEqual([command[0], 400])
        // within the bound they run, and nothing was popped above
        expect(
          (await post(url, ['HRANDFIELD', 'sess:big', '-5'], READ_TOKEN)).body.result,
        ).toHaveLength(5)
        expect(await direct.scard('sess:set')).toBe(1000)
        const peak = peakRssMb(child.pid!)
        figures('gateway-rss', {
          beforeMb: before.toFixed(0),
          peakMb: peak.toFixed(0),
          requests: 50,
        })
        expect(peak).toBeLessThan(300)
        expect(await direct.ping()).toBe('PONG')
      } finally {
        child.kill('SIGTERM')
      }
    },
  )

  it('a reply over GATEWAY_MAX_REPLY_BYTES answers 400 instead of being encoded', async () => {
    const redis = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
    const running = await listen(
      createGateway({ redis, tokens: [TOKEN], maxReplyBytes: 1024 * 1024 }),
      { port: 0 },
    )
    try {
      await direct.set('sess:huge', 'y'.repeat(2 * 1024 * 1024))
      const res = await post(running.url, ['GET', 'sess:huge'])
      expect(res.status).toBe(400)
      expect(res.body.error).toMatch(/^ERR reply too large: \d+ bytes.*GATEWAY_MAX_REPLY_BYTES/)
      const piped = await post(running.url + '/pipeline', [['GET', 'sess:huge'], ['PING']])
      expect(piped.status).toBe(400)
      expect((await post(running.url, ['STRLEN', 'sess:huge'])).body).toEqual({ result: 2097152 })
    } finally {
      await running.stop()
      redis.disconnect()
    }
  })
})

describe('attack: sockets held open', () => {
  const open = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket))
      socket.once('error', reject)
    })
  const closed = (socket: Socket) =>
    new Promise<number>((resolve) => {
      const t0 = Date.now()
      socket.once('close', () => resolve(Date.now() - t0))
      socket.resume() // read what the server sends (a 408), so its FIN is seen
    })

  it('headers must arrive within 10 s by default; a slow client is cut off', async () => {
    const redis = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
    const byDefault = await listen(createGateway({ redis, tokens: [TOKEN] }), { port: 0 })
    expect(byDefault.server.headersTimeout).toBe(10_000)
    expect(byDefault.server.maxConnections).toBe(10_000)
    await byDefault.stop()
    const strict = await listen(createGateway({ redis, tokens: [TOKEN] }), {
      port: 0,
      headersTimeoutMs: 500,
    })
    try {
      const socket = await open(strict.port)
      const gone = closed(socket)
      socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n') // and never the rest
      expect(await gone).toBeLessThan(3000)
    } finally {
      await strict.stop()
      redis.disconnect()
    }
  })

  it('GATEWAY_MAX_CONNECTIONS caps open sockets: one more is closed on arrival', async () => {
    const redis = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
    const capped = await listen(createGateway({ redis, tokens: [TOKEN] }), {
      port: 0,
      maxConnections: 3,
    })
    try {
      const held = await Promise.all([0, 1, 2].map(() => open(capped.port)))
      await new Promise((r) => setTimeout(r, 100))
      const extra = await open(capped.port)
      expect(await closed(extra)).toBeLessThan(1000)
      for (const s of held) expect(s.destroyed).toBe(false)
      for (const s of held) s.destroy()
    } finally {
      await capped.stop()
      redis.disconnect()
    }
  })
})
