import { serve } from '@hono/node-server'
import { createDemoApp } from './demo/app.js'
import { keysFromEnv } from './demo/config.js'
import { memoryStore } from './store/memory.js'

/**
 * The demo on Node: `npm start`. Environment: `PORT` (default 8787), `SESSION_KEYS`.
 * Plain HTTP is for localhost development only (the cookie drops `Secure`; other hosts are
 * refused).
 */
const port = Number(process.env.PORT ?? 8787)
if (!Number.isInteger(port) || port < 0 || port > 65535)
  throw new Error(`PORT must be a port number, got ${process.env.PORT}`)

const store = memoryStore()
const app = createDemoApp({
  store,
  keys: keysFromEnv(process.env.SESSION_KEYS),
  insecureLocalhost: true,
})

const server = serve(
  { fetch: app.fetch, port, hostname: process.env.HOST ?? '127.0.0.1' },
  (info) => {
    console.log(`hono-redis-session demo on http://localhost:${info.port} (store: memory)`)
  },
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0))
    setTimeout(() => process.exit(0), 3000).unref()
  })
}
