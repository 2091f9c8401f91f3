/**
 * The gateway server's settings (`npm run gateway`, `npx hono-redis-session gateway`): parsed
 * here from the environment and the CLI flags alike, so both name a bad value the same way.
 */
import { allowCommandsProblem } from '../gateway/commands.js'
import type { RedisConnectOptions } from '../store/ioredis-connect.js'
import { redisOptionsFrom, redisSettingsFromEnv, withFlags, type RedisSettings } from './redis.js'
import {
  choiceSetting,
  integerSetting,
  listSetting,
  pickSettings,
  type Setting,
  type Settings,
} from './settings.js'

/** The gateway's own settings (the Redis target comes from {@link RedisSettings}). */
export type GatewaySetting =
  | 'tokens'
  | 'readOnlyTokens'
  | 'host'
  | 'port'
  | 'timeoutMs'
  | 'maxBodyBytes'
  | 'scripts'
  | 'scriptFiles'
  | 'maxCount'
  | 'maxReplyBytes'
  | 'maxConnections'
  | 'maxSubscribers'
  | 'allowCommands'
  | 'readFrom'

/** The environment variable of each setting. */
export const GATEWAY_VARIABLES: Readonly<Record<GatewaySetting, string>> = {
  tokens: 'GATEWAY_TOKENS',
  readOnlyTokens: 'GATEWAY_READONLY_TOKENS',
  host: 'GATEWAY_HOST',
  port: 'GATEWAY_PORT',
  timeoutMs: 'GATEWAY_TIMEOUT_MS',
  maxBodyBytes: 'GATEWAY_MAX_BODY_BYTES',
  scripts: 'GATEWAY_SCRIPTS',
  scriptFiles: 'GATEWAY_SCRIPT_FILES',
  maxCount: 'GATEWAY_MAX_COUNT',
  maxReplyBytes: 'GATEWAY_MAX_REPLY_BYTES',
  maxConnections: 'GATEWAY_MAX_CONNECTIONS',
  maxSubscribers: 'GATEWAY_MAX_SUBSCRIBERS',
  allowCommands: 'GATEWAY_ALLOW_COMMANDS',
  readFrom: 'GATEWAY_READ_FROM',
}

/** The variables, with their defaults, for `--help`. */
export const GATEWAY_HELP = [
  'REDIS_URL | REDIS_SENTINELS + REDIS_SENTINEL_NAME | REDIS_CLUSTER_NODES (REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS, REDIS_TIMEOUT_MS)',
  'GATEWAY_TOKENS (required), GATEWAY_READONLY_TOKENS',
  'GATEWAY_HOST (127.0.0.1), GATEWAY_PORT (8079), GATEWAY_TIMEOUT_MS (5000), GATEWAY_MAX_BODY_BYTES (1048576)',
  'GATEWAY_SCRIPTS (registered | any), GATEWAY_SCRIPT_FILES',
  'GATEWAY_ALLOW_COMMANDS (comma-separated NAME or NAME SUBCOMMAND, e.g. FLUSHDB; never CONFIG, DEBUG, MIGRATE, ...)',
  'GATEWAY_MAX_COUNT (10000), GATEWAY_MAX_REPLY_BYTES (8388608), GATEWAY_MAX_CONNECTIONS (10000)',
  'GATEWAY_MAX_SUBSCRIBERS (1000; 0 turns subscriptions off)',
  'GATEWAY_READ_FROM (primary | replicas: reads on Sentinel replicas that reached the Upstash-Sync-Token)',
] as const

/** Everything the gateway server needs, parsed and checked. */
export interface GatewayConfig {
  redis: RedisConnectOptions
  tokens: string[]
  readOnlyTokens: string[]
  host: string
  port: number
  timeoutMs: number
  maxBodyBytes: number
  scriptPolicy: 'registered' | 'any'
  /** Paths of Lua files whose scripts are registered, read when the server starts. */
  scriptFiles: string[]
  maxCount: number
  maxReplyBytes: number
  maxConnections: number
  /** Most subscription streams at once; 0: none. */
  maxSubscribers: number
  /** More commands for read-write tokens (`NAME` or `NAME SUBCOMMAND`), checked here. */
  allowCommands: string[]
  /** Where read-only requests run: `replicas` needs a Sentinel target. */
  readFrom: 'primary' | 'replicas'
}

/** What the user gave: gateway settings and the Redis target's. */
export interface GatewaySettings {
  gateway: Settings<GatewaySetting>
  redis: RedisSettings
}

/** Flags laid over the environment (see {@link withFlags} for the Redis target). */
export function gatewaySettings(
  env: Record<string, string | undefined>,
  flags: GatewaySettings = { gateway: {}, redis: {} },
): GatewaySettings {
  const gateway = pickSettings(env, GATEWAY_VARIABLES)
  for (const [key, setting] of Object.entries(flags.gateway) as [GatewaySetting, Setting][])
    if (setting) gateway[key] = setting
  return { gateway, redis: withFlags(redisSettingsFromEnv(env), flags.redis) }
}

/**
 * Parses the settings; throws an Error naming the variable or flag of a missing or bad value.
 */
export function gatewayConfig({ gateway, redis }: GatewaySettings): GatewayConfig {
  const target = redisOptionsFrom(redis)
  if (!target)
    throw new Error(
      'no Redis target: set REDIS_URL, or REDIS_SENTINELS (and REDIS_SENTINEL_NAME), or REDIS_CLUSTER_NODES',
    )
  const tokens = listSetting(gateway.tokens)
  if (tokens.length === 0)
    throw new Error(
      'GATEWAY_TOKENS is required: a comma-separated list of bearer tokens of 16+ characters (e.g. `openssl rand -base64 32`)',
    )
  const scriptPolicy = choiceSetting(gateway.scripts, ['registered', 'any'], 'registered')
  const allowCommands = listSetting(gateway.allowCommands)
  const problem = allowCommandsProblem(allowCommands, scriptPolicy)
  if (problem) throw new Error(`${gateway.allowCommands!.name} ${problem}`)
  const readFrom = choiceSetting(gateway.readFrom, ['primary', 'replicas'], 'primary')
  if (readFrom === 'replicas' && !target.sentinels)
    throw new Error(
      `${gateway.readFrom!.name}=replicas needs a Sentinel deployment (REDIS_SENTINELS), whose sentinels list the replicas`,
    )
  return {
    redis: target,
    tokens,
    readOnlyTokens: listSetting(gateway.readOnlyTokens),
    host: gateway.host?.value ?? '127.0.0.1',
    port: integerSetting(gateway.port, 8079, { max: 65535 }),
    timeoutMs: integerSetting(gateway.timeoutMs, 5000),
    maxBodyBytes: integerSetting(gateway.maxBodyBytes, 1024 * 1024),
    scriptPolicy,
    scriptFiles: listSetting(gateway.scriptFiles),
    maxCount: integerSetting(gateway.maxCount, 10_000),
    maxReplyBytes: integerSetting(gateway.maxReplyBytes, 8 * 1024 * 1024),
    maxConnections: integerSetting(gateway.maxConnections, 10_000),
    maxSubscribers: integerSetting(gateway.maxSubscribers, 1000, { min: 0 }),
    allowCommands,
    readFrom,
  }
}
