import type { Socket } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { BatchingRedis } from '../../src/store/write-batching.js'
import { startRedis, stopAll } from '../helpers/redis.js'

afterAll(stopAll)

/** Counts the socket writes a client makes: single chunks and gathered ones. */
function countWrites(client: Redis) {
  const socket = client.stream as Socket & {
    _write: (...a: unknown[]) => void
    _writev: (...a: unknown[]) => void
  }
  const counts = { single: 0, gathered: 0, chunks: 0 }
  const write = socket._write.bind(socket)
  const writev = socket._writev.bind(socket)
  socket._write = (...a) => {
    counts.single++
    counts.chunks++
    write(...a)
  }
  socket._writev = (chunks, ...rest) => {
    counts.gathered++
    counts.chunks += (chunks as unknown[]).length
    writev(chunks, ...rest)
  }
  return counts
}

describe('write batching (single connection)', () => {
  const quiet = { logger: () => {} }

  it('sends the commands of one turn in one socket write, replies in order', async () => {
    const redis = await startRedis()
    const client = connectRedis({ url: redis.url, ...quiet }) as Redis
    try {
      expect(client).toBeInstanceOf(BatchingRedis)
      await client.ping()
      await new Promise((r) => setImmediate(r))
      const counts = countWrites(client)
      const replies = Promise.all(Array.from({ length: 100 }, () => client.incr('n')))
      expect(client.stream.writableCorked).toBe(1)
      expect(await replies).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
      expect(client.stream.writableCorked).toBe(0)
      expect(counts).toEqual({ single: 0, gathered: 1, chunks: 100 })
      // the next turn starts a new batch
      expect(await Promise.all([client.incr('n'), client.get('n')])).toEqual([101, '101'])
      expect(counts).toEqual({ single: 0, gathered: 2, chunks: 102 })
    } finally {
      client.disconnect()
    }
  })

  it('writes every command by itself when turned off', async () => {
    const redis = await startRedis()
    const client = connectRedis({ url: redis.url, autoPipelining: false, ...quiet }) as Redis
    try {
      await client.ping()
      const counts = countWrites(client)
      await Promise.all(Array.from({ length: 20 }, () => client.incr('n')))
      expect(client.stream.writableCorked).toBe(0)
      expect(counts.single).toBeGreaterThan(1)
      expect(counts.chunks).toBe(20)
    } finally {
      client.disconnect()
    }
  })

  it('queues the commands sent before the connection is ready, then runs them', async () => {
    const redis = await startRedis()
    const client = connectRedis({ url: redis.url, ...quiet }) as Redis
    try {
      expect(client.status).not.toBe('ready')
      const replies = await Promise.all(Array.from({ length: 10 }, () => client.incr('early')))
      expect(replies).toEqual(Array.from({ length: 10 }, (_, i) => i + 1))
    } finally {
      client.disconnect()
    }
  })

  it('a batch corked on a connection that dies fails its commands instead of hanging', async () => {
    const redis = await startRedis()
    const client = connectRedis({ url: redis.url, commandTimeoutMs: 500, ...quiet }) as Redis
    try {
      await client.ping()
      const replies = Promise.allSettled([client.incr('x'), client.incr('x')])
      client.stream.destroy()
      const settled = await replies
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected'])
      // and the client comes back by itself
      await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 5000 }).toBe('PONG')
    } finally {
      client.disconnect()
    }
  })
})
