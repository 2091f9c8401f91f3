import { serve } from '@hono/node-server'
import { ioredisStore } from 'hono-redis-session/ioredis'
import { createApp } from './app.js'

const store = ioredisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
const app = createApp({
  store,
  sessionKey: process.env.SESSION_KEY!,
  metricsToken: process.env.METRICS_TOKEN,
})

const port = Number(process.env.PORT ?? 3000)
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) =>
  console.log(`listening on http://127.0.0.1:${info.port}`),
)

// Stop taking requests, then close the Redis connection.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => void store.close()))
}
