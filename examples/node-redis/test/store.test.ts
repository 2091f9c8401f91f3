// The conformance suite of hono-redis-session/testing, on both stores this app can use.
import { ioredisStore } from 'hono-redis-session/ioredis'
import { memoryStore } from 'hono-redis-session/memory'
import { testStore } from 'hono-redis-session/testing'

testStore('memory store', () => ({ store: memoryStore() }))

testStore('ioredis store', () => {
  const store = ioredisStore({
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: `test${Date.now()}:`, // a fresh key space per run
  })
  return { store, cleanup: () => store.close() }
})
