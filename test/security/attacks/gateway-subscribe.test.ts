/**
 * Attacks on the subscription streams (gateway issue, item 8): a publisher forging events in
 * every subscriber's stream with line breaks, and a subscriber that never reads making the
 * gateway buffer without end. The official @upstash/redis client, unmodified, is the victim.
 */
import { connect } from 'node:net'
import { Redis as Upstash } from '@upstash/redis'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, listen, type RunningGateway } from '../../../src/gateway/index.js'
import type { Gateway } from '../../../src/gateway/index.js'
import { connectRedis } from '../../../src/store/ioredis-connect.js'
import { startRedis, stopAll, type RedisServer } from '../../helpers/redis.js'
import { pubsubConnections, subscribed, until } from '../../helpers/subscriptions.js'

const TOKEN = 'subscribe-attack-token-0123456789'

let server: RedisServer
let shared: ReturnType<typeof connectRedis>
let attacker: Redis
let gateway: Gateway
let running: RunningGateway
let victim: Upstash

beforeAll(async () => {
  server = await startRedis()
  shared = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
  attacker = new Redis({ host: server.host, port: server.port, protocol: 2 })
  gateway = createGateway({ redis: shared, tokens: [TOKEN] })
  running = await listen(gateway, { port: 0 })
  victim = new Upstash({ url: running.url, token: TOKEN })
})

afterAll(async () => {
  await running?.stop()
  shared?.disconnect()
  attacker?.disconnect()
  await stopAll()
})

describe('subscriptions under attack', () => {
  it('a payload with line breaks cannot forge an event: it arrives whole, as published', async () => {
    const news = await subscribed(victim, 'subscribe', 'news')
    const forged: unknown[] = []
    news.sub.on('message:admin', (m) => forged.push(m))
    news.sub.on('unsubscribe', (n) => forged.push(n))
    const pattern = await subscribed(victim, 'psubscribe', 'news*')
    const payloads = [
      'x\ndata: message,admin,{"role":"admin"}',
      'x\r\ndata: unsubscribe,news,0',
      'x\rdata: message,admin,1',
      '{\n  "pretty": "json",\r\n  "n": 12345678901234567890\n}',
    ]
    for (const p of payloads) await attacker.publish('news', p)
    // a channel name with a line break matches the pattern: that message is dropped
    await attacker.publish('news\ndata: pmessage,news*,news,{"forged":true}', '{"forged":true}')
    await attacker.publish('news', '"the end"')
    await until(() => news.messages.length === 5, 'every message on the channel stream')
    await until(() => pattern.messages.length === 5, 'every message on the pattern stream')

    const expected = [
      'x\ndata: message,admin,{"role":"admin"}',
      'x\r\ndata: unsubscribe,news,0',
      'x\rdata: message,admin,1',
      { pretty: 'json', n: 12345678901234567890 },
      'the end',
    ]
    expect(news.messages.map((m) => m.message)).toEqual(expected)
    expect(news.messages.every((m) => m.channel === 'news')).toBe(true)
    expect(pattern.messages.map((m) => [m.pattern, m.channel, m.message])).toEqual(
      expected.map((m) => ['news*', 'news', m]),
    )
    expect(forged).toEqual([])
    expect([...news.errors, ...pattern.errors]).toEqual([])
    await news.sub.unsubscribe()
    await pattern.sub.unsubscribe()
    await until(() => gateway.subscribers() === 0, 'closed')
  })

  it('a subscriber that never reads is cut off once 1 MiB behind, and its Redis connection closed', async () => {
    const socket = connect(running.port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    let head = ''
    const gotHead = new Promise<void>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1')
        if (head.includes('subscribe,slow,1')) resolve()
      }),
    )
    socket.write(
      `POST /subscribe/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 0\r\n\r\n`,
    )
    await gotHead
    expect(head).toMatch(/^HTTP\/1\.1 200/)
    socket.pause() // from now on, nothing is read
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    const message = 'm'.repeat(64 * 1024)
    let published = 0
    // at most 40 MiB: the kernel's socket buffers on loopback take a few MiB before the gateway's
    while (gateway.subscribers() > 0 && published < 640) {
      await attacker.publish('slow', message)
      published++
    }
    expect(gateway.subscribers()).toBe(0)
    await until(async () => (await pubsubConnections([server])) === 0, 'Redis connection closed')
    socket.resume()
    await closed
    console.log(
      `[subscribe] a reader that never reads was cut after ${((published * message.length) / 2 ** 20).toFixed(1)} MiB published`,
    )
  })
})
