/**
 * A body whose Content-Length is declared is read in one go (the fast path), so what a client
 * that lies about it gets matters: a body shorter than declared waits until the request
 * deadline (504, nothing run), a longer one is cut at the declared length (what follows is
 * the next request on the connection), and a client that leaves mid-body costs nothing.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Redis } from 'ioredis'
import type { Cluster } from 'ioredis'
import { createGateway, listen, type RunningGateway } from '../../src/gateway/index.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { startRedis, stopAll, type RedisServer } from '../helpers/redis.js'

const TOKEN = 'rw-token-0123456789abcdef'
const TIMEOUT_MS = 300

let server: RedisServer
let redis: Redis | Cluster
let direct: Redis
let gw: RunningGateway

beforeAll(async () => {
  server = await startRedis()
  redis = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
  direct = new Redis({ port: server.port, host: server.host, protocol: 2 })
  gw = await listen(createGateway({ redis, tokens: [TOKEN], timeoutMs: TIMEOUT_MS }), { port: 0 })
})

afterAll(async () => {
  await gw?.stop()
  redis?.disconnect()
  direct?.disconnect()
  await stopAll()
})

/** Writes raw bytes on one connection; resolves with everything the gateway sent back. */
function raw(request: string, { end = false } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.port, '127.0.0.1')
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (answer += chunk))
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
    socket.write(request)
    if (end) socket.end()
    // nothing hangs: the deadline answers, and the connection is closed after at most 5 s
    setTimeout(() => socket.destroy(), 5000)
  })
}

const head = (length: number) =>
  `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`

describe('bodies framed by Content-Length', () => {
  it('answers a body shorter than declared at the deadline, running nothing', async () => {
    const body = '["SET","frame:short","v"]'
    const started = Date.now()
    const answer = await raw(head(body.length + 10) + body)
    expect(answer).toMatch(/^HTTP\/1\.1 504 /)
    expect(answer).toContain('gateway timeout')
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 3000)
    expect(await direct.exists('frame:short')).toBe(0)
  })

  it('reads no further than the declared length: what follows is the next request', async () => {
    const body = '["SET","frame:long","v"]'
    const next = `GET /echo/after HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`
    const answer = await raw(head(body.length).replace('Connection: close\r\n', '') + body + next)
    const replies = answer.split(/(?=HTTP\/1\.1 )/)
    expect(replies).toHaveLength(2)
    expect(replies[0]).toMatch(/^HTTP\/1\.1 200 [\s\S]*\{"result":"OK"\}$/)
    expect(replies[1]).toMatch(/^HTTP\/1\.1 200 [\s\S]*\{"result":"after"\}$/)
  })

  it('runs nothing for a client that leaves mid-body, and keeps serving', async () => {
    const logged = vi.spyOn(console, 'error')
    const body = '["SET","frame:gone","v"]'
    const answer = await raw(head(body.length) + body.slice(0, 10), { end: true })
    expect(answer).not.toMatch(/ 200 /)
    expect(await direct.exists('frame:gone')).toBe(0)
    // the client's leaving is not reported as an error of the gateway's own
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(logged.mock.calls.flat().join(' ')).not.toContain('unexpected error')
    logged.mockRestore()
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '["GET","frame:long"]',
    })
    expect(await res.json()).toEqual({ result: 'v' })
  })
})
