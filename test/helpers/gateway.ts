import { Hono } from 'hono'
import { createGateway } from '../../src/gateway/app.js'
import { listen, type RunningGateway } from '../../src/gateway/server.js'
import { connectRedis, type RedisConnectOptions } from '../../src/store/ioredis-connect.js'

export const GATEWAY_TOKEN = 'test-gateway-token-0123456789'

/**
 * A gateway over real HTTP on a free loopback port, in front of a Redis deployment, counting
 * the HTTP requests it receives (the Upstash store's round trips). A stopped gateway refuses
 * requests, so every (re)start builds a new one on the same Redis client.
 */
export async function startGateway(redis: RedisConnectOptions, port = 0) {
  const client = connectRedis({ ...redis, stringNumbers: true })
  let requests = 0
  const start = (onPort: number) => {
    const gateway = createGateway({ redis: client, tokens: [GATEWAY_TOKEN] })
    const counted = new Hono()
    counted.use(async (_c, next) => {
      requests++
      await next()
    })
    counted.route('/', gateway.app)
    return listen({ ...gateway, app: counted }, { host: '127.0.0.1', port: onPort })
  }
  let running: RunningGateway = await start(port)
  return {
    get url() {
      return running.url
    },
    token: GATEWAY_TOKEN,
    requests: () => requests,
    /** Counts the requests `fn` causes. */
    async count(fn: () => Promise<unknown>): Promise<number> {
      const before = requests
      await fn()
      return requests - before
    },
    stop: () => running.stop(),
    /** Listens again on the same port. */
    async restart() {
      running = await start(running.port)
    },
    async close() {
      await running.stop()
      client.disconnect()
    },
  }
}
