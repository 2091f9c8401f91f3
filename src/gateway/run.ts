/**
 * Runs the Upstash-compatible gateway over HTTP as a server process: `npm run gateway` and
 * `npx hono-redis-session gateway` (whose flags override the same settings; both are parsed by
 * `config/gateway.ts`).
 *
 * Environment:
 * - `REDIS_URL`, or `REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`, or `REDIS_CLUSTER_NODES`
 *   (plus `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_TLS`, `REDIS_TIMEOUT_MS`): the target.
 * - `GATEWAY_TOKENS` (required, comma-separated) and `GATEWAY_READONLY_TOKENS`: bearer tokens.
 * - `GATEWAY_HOST` (default 127.0.0.1), `GATEWAY_PORT` (default 8079).
 * - `GATEWAY_TIMEOUT_MS` (default 5000), `GATEWAY_MAX_BODY_BYTES` (default 1048576).
 * - `GATEWAY_MAX_COUNT` (default 10000), `GATEWAY_MAX_REPLY_BYTES` (default 8388608),
 *   `GATEWAY_MAX_CONNECTIONS` (default 10000), `GATEWAY_MAX_SUBSCRIBERS` (default 1000; 0: none).
 * - `GATEWAY_SCRIPTS`: `registered` (default: only this package's session scripts and those of
 *   `GATEWAY_SCRIPT_FILES`, comma-separated paths of Lua files) or `any`.
 * - `GATEWAY_ALLOW_COMMANDS`: comma-separated `NAME` or `NAME SUBCOMMAND` opened for read-write
 *   tokens (e.g. `FLUSHDB` in a test environment); those unsafe by nature (`CONFIG`, `DEBUG`,
 *   `SHUTDOWN`, `MIGRATE`, `MODULE`, `REPLICAOF`, `ACL`, ...) stop the start with an error.
 * - `GATEWAY_READ_FROM`: `primary` (default) or `replicas` (Sentinel only: requests made of data
 *   reads run on a replica that has reached the request's `Upstash-Sync-Token`, else on the
 *   primary; one connection per replica the sentinels list at start).
 *
 * SIGTERM / SIGINT: stop accepting connections, end subscription streams, let requests in flight finish (at most the
 * request timeout plus 1 s), quit Redis, exit 0. A stuck shutdown exits anyway after 3 s more.
 */
import { readFileSync } from 'node:fs'
import { gatewayConfig, gatewaySettings, type GatewayConfig } from '../config/gateway.js'
import { connectRedis, describeRedisTarget } from '../store/ioredis-connect.js'
import { createGateway, type Gateway } from './app.js'
import { settleWithin } from '../util/timeout.js'
import { listen } from './server.js'
import { connectReplicas } from './replicas.js'

function fail(message: string): never {
  console.error(`[gateway] ${message}`)
  process.exit(1)
}

/**
 * Parses the settings (see `config/gateway.ts`) and serves; exits the process with a message
 * naming the variable or flag of a bad setting.
 */
export async function runGatewayFrom(...args: Parameters<typeof gatewaySettings>): Promise<void> {
  let config: GatewayConfig
  try {
    config = gatewayConfig(gatewaySettings(...args))
  } catch (error) {
    fail((error as Error).message)
  }
  await runGateway(config)
}

/** Serves the gateway until SIGTERM or SIGINT; exits the process with a message on a bad setting. */
export async function runGateway(config: GatewayConfig): Promise<void> {
  const { redis: target, host, port, timeoutMs, maxConnections } = config
  const scripts = config.scriptFiles.map((file) => {
    try {
      return readFileSync(file, 'utf8')
    } catch (error) {
      fail(`GATEWAY_SCRIPT_FILES: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`)
    }
  })

  // integers as text: exact beyond 2^53 (encoding.ts writes their digits); replicas too
  const redis = connectRedis({ ...target, stringNumbers: true })
  const replicas =
    config.readFrom === 'replicas' ? await connectReplicas({ ...target, stringNumbers: true }) : []
  const disconnect = () => {
    for (const client of [redis, ...replicas]) client.disconnect()
  }
  let gateway: Gateway
  try {
    gateway = createGateway({
      redis,
      tokens: config.tokens,
      readOnlyTokens: config.readOnlyTokens,
      timeoutMs,
      maxBodyBytes: config.maxBodyBytes,
      scriptPolicy: config.scriptPolicy,
      scripts,
      maxCount: config.maxCount,
      maxReplyBytes: config.maxReplyBytes,
      maxSubscribers: config.maxSubscribers,
      allowCommands: config.allowCommands,
      readFrom: config.readFrom,
      replicas,
    })
  } catch (error) {
    disconnect()
    fail((error as Error).message)
  }
  const running = await listen(gateway, { host, port, maxConnections }).catch((error: Error) => {
    disconnect()
    fail(`cannot listen on ${host}:${port}: ${error.message}`)
  })
  const reads = replicas.length ? `, reads on ${replicas.length} replica(s)` : ''
  console.log(
    `[gateway] listening on ${running.url}, forwarding to ${describeRedisTarget(target)}${reads}`,
  )

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`[gateway] ${signal}: stopping, draining requests in flight`)
    setTimeout(() => {
      console.error('[gateway] shutdown took too long; exiting')
      process.exit(0)
    }, timeoutMs + 4000).unref()
    await running.stop()
    await settleWithin(Promise.all([redis, ...replicas].map((c) => c.quit())), 1000, undefined)
    disconnect()
    console.log('[gateway] stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}
