/**
 * Runs the Upstash-compatible gateway over HTTP as a server process: `npm run gateway` and
 * `npx hono-redis-session gateway` (whose flags set the same variables).
 *
 * Environment:
 * - `REDIS_URL`, or `REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`, or `REDIS_CLUSTER_NODES`
 *   (plus `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_TLS`, `REDIS_TIMEOUT_MS`): the target.
 * - `GATEWAY_TOKENS` (required, comma-separated) and `GATEWAY_READONLY_TOKENS`: bearer tokens.
 * - `GATEWAY_HOST` (default 127.0.0.1), `GATEWAY_PORT` (default 8079).
 * - `GATEWAY_TIMEOUT_MS` (default 5000), `GATEWAY_MAX_BODY_BYTES` (default 1048576).
 * - `GATEWAY_MAX_COUNT` (default 10000), `GATEWAY_MAX_REPLY_BYTES` (default 8388608),
 *   `GATEWAY_MAX_CONNECTIONS` (default 10000).
 * - `GATEWAY_SCRIPTS`: `registered` (default: only this package's session scripts and those of
 *   `GATEWAY_SCRIPT_FILES`, comma-separated paths of Lua files) or `any`.
 *
 * SIGTERM / SIGINT: stop accepting connections, let requests in flight finish (at most the
 * request timeout plus 1 s), quit Redis, exit 0. A stuck shutdown exits anyway after 3 s more.
 */
import { readFileSync } from 'node:fs'
import { redisOptionsFromEnv } from '../config/redis.js'
import { connectRedis, describeRedisTarget } from '../store/ioredis-connect.js'
import type { RedisConnectOptions } from '../store/ioredis-connect.js'
import { createGateway, type Gateway } from './app.js'
import { settleWithin } from '../util/timeout.js'
import { listen } from './server.js'

/** The variables {@link runGateway} reads, for `--help`. */
export const GATEWAY_VARIABLES = [
  'REDIS_URL | REDIS_SENTINELS + REDIS_SENTINEL_NAME | REDIS_CLUSTER_NODES (REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS, REDIS_TIMEOUT_MS)',
  'GATEWAY_TOKENS (required), GATEWAY_READONLY_TOKENS',
  'GATEWAY_HOST (127.0.0.1), GATEWAY_PORT (8079), GATEWAY_TIMEOUT_MS (5000), GATEWAY_MAX_BODY_BYTES (1048576)',
  'GATEWAY_SCRIPTS (registered | any), GATEWAY_SCRIPT_FILES',
  'GATEWAY_MAX_COUNT (10000), GATEWAY_MAX_REPLY_BYTES (8388608), GATEWAY_MAX_CONNECTIONS (10000)',
]

function fail(message: string): never {
  console.error(`[gateway] ${message}`)
  process.exit(1)
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function integer(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]?.trim()
  if (!raw) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < 1 || value > max)
    fail(`${name} must be an integer between 1 and ${max}, got "${raw}"`)
  return value
}

function redisTarget(env: Env): RedisConnectOptions {
  let options: RedisConnectOptions | null
  try {
    options = redisOptionsFromEnv(env)
  } catch (error) {
    fail((error as Error).message)
  }
  if (!options)
    fail(
      'no Redis target: set REDIS_URL, or REDIS_SENTINELS (and REDIS_SENTINEL_NAME), or REDIS_CLUSTER_NODES',
    )
  return options
}

type Env = Record<string, string | undefined>

/** Serves the gateway until SIGTERM or SIGINT; exits the process with a message on a bad setting. */
export async function runGateway(env: Env): Promise<void> {
  const target = redisTarget(env)
  const tokens = list(env.GATEWAY_TOKENS)
  if (tokens.length === 0) {
    fail(
      'GATEWAY_TOKENS is required: a comma-separated list of bearer tokens of 16+ characters (e.g. `openssl rand -base64 32`)',
    )
  }
  const host = env.GATEWAY_HOST?.trim() || '127.0.0.1'
  const port = integer(env, 'GATEWAY_PORT', 8079, 65535)
  const timeoutMs = integer(env, 'GATEWAY_TIMEOUT_MS', 5000)
  const maxBodyBytes = integer(env, 'GATEWAY_MAX_BODY_BYTES', 1024 * 1024)
  const scriptPolicy = env.GATEWAY_SCRIPTS?.trim() || 'registered'
  if (scriptPolicy !== 'registered' && scriptPolicy !== 'any')
    fail(`GATEWAY_SCRIPTS must be "registered" or "any", got "${scriptPolicy}"`)
  const scripts = list(env.GATEWAY_SCRIPT_FILES).map((file) => {
    try {
      return readFileSync(file, 'utf8')
    } catch (error) {
      fail(`GATEWAY_SCRIPT_FILES: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`)
    }
  })

  const redis = connectRedis(target)
  let gateway: Gateway
  try {
    gateway = createGateway({
      redis,
      tokens,
      readOnlyTokens: list(env.GATEWAY_READONLY_TOKENS),
      timeoutMs,
      maxBodyBytes,
      scriptPolicy,
      scripts,
      maxCount: integer(env, 'GATEWAY_MAX_COUNT', 10_000),
      maxReplyBytes: integer(env, 'GATEWAY_MAX_REPLY_BYTES', 8 * 1024 * 1024),
    })
  } catch (error) {
    redis.disconnect()
    fail((error as Error).message)
  }
  const maxConnections = integer(env, 'GATEWAY_MAX_CONNECTIONS', 10_000)
  const running = await listen(gateway, { host, port, maxConnections }).catch((error: Error) => {
    redis.disconnect()
    fail(`cannot listen on ${host}:${port}: ${error.message}`)
  })
  console.log(`[gateway] listening on ${running.url}, forwarding to ${describeRedisTarget(target)}`)

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
    await settleWithin(redis.quit(), 1000, undefined)
    redis.disconnect()
    console.log('[gateway] stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}
