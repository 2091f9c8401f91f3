/**
 * Where Redis is, from the environment or from command-line flags: the one parser the demo,
 * the gateway and the ops CLI share. Each setting carries the name it came from (a variable or
 * a flag), so an error names what the user typed, never the value (it may hold a password).
 */
import type { RedisConnectOptions } from '../store/ioredis-connect.js'
import { DEFAULT_SENTINEL_NAME, urlOptions } from '../store/redis-url.js'
import {
  addressListSetting,
  flagSetting,
  integerSetting,
  pickSettings,
  type Setting,
  type Settings,
} from './settings.js'

/** The settings, as text. */
export type RedisSetting =
  | 'url'
  | 'sentinels'
  | 'sentinelName'
  | 'sentinelPassword'
  | 'cluster'
  | 'username'
  | 'password'
  | 'tls'
  | 'timeoutMs'
  | 'autoPipelining'

/** Setting -> its text and the name it came from (`REDIS_URL`, `--redis-url`, ...). */
export type RedisSettings = Settings<RedisSetting>

/** The environment variable of each setting. */
export const REDIS_VARIABLES: Readonly<Record<RedisSetting, string>> = {
  url: 'REDIS_URL',
  sentinels: 'REDIS_SENTINELS',
  sentinelName: 'REDIS_SENTINEL_NAME',
  sentinelPassword: 'REDIS_SENTINEL_PASSWORD',
  cluster: 'REDIS_CLUSTER_NODES',
  username: 'REDIS_USERNAME',
  password: 'REDIS_PASSWORD',
  tls: 'REDIS_TLS',
  timeoutMs: 'REDIS_TIMEOUT_MS',
  autoPipelining: 'REDIS_AUTO_PIPELINING',
}

/** The three ways to name a server; exactly one may be set. */
export const TOPOLOGY_SETTINGS = ['url', 'sentinels', 'cluster'] as const

/** The settings the environment holds. Empty values count as unset; values are trimmed except the password. */
export function redisSettingsFromEnv(env: Record<string, string | undefined>): RedisSettings {
  return pickSettings(env, REDIS_VARIABLES, ['password'])
}

/**
 * Settings from flags laid over settings from the environment: a flag wins over its variable,
 * and a topology flag (`--redis-url`, `--sentinels`, `--cluster`) replaces every topology
 * variable, so `--cluster` with `REDIS_URL` set in the shell is not "set only one of".
 */
export function withFlags(env: RedisSettings, flags: RedisSettings): RedisSettings {
  const out = { ...env }
  if (TOPOLOGY_SETTINGS.some((t) => flags[t])) for (const t of TOPOLOGY_SETTINGS) delete out[t]
  for (const [key, setting] of Object.entries(flags) as [RedisSetting, Setting | undefined][])
    if (setting) out[key] = setting
  return out
}

/**
 * Reads connection options from the environment: REDIS_URL, or REDIS_SENTINELS
 * (comma-separated host:port) with REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD, or
 * REDIS_CLUSTER_NODES (comma-separated host:port); plus REDIS_USERNAME, REDIS_PASSWORD,
 * REDIS_TLS=1, REDIS_TIMEOUT_MS (command timeout) and REDIS_AUTO_PIPELINING=0 (turns
 * write batching off). Empty values count as unset.
 *
 * @returns null when none of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES is set.
 * @throws Error naming the variable when a value is malformed, or when several topologies are set.
 */
export function redisOptionsFromEnv(
  env: Record<string, string | undefined>,
): RedisConnectOptions | null {
  return redisOptionsFrom(redisSettingsFromEnv(env))
}

/** Connection options from settings of any origin; null when no topology is set. */
export function redisOptionsFrom(settings: RedisSettings): RedisConnectOptions | null {
  const chosen = TOPOLOGY_SETTINGS.filter((t) => settings[t] !== undefined)
  if (chosen.length === 0) return null
  if (chosen.length > 1)
    throw new Error(`Set only one of ${chosen.map((t) => settings[t]!.name).join(', ')}`)
  const { url, sentinels, cluster } = settings
  const options: RedisConnectOptions = {}
  if (url) {
    try {
      urlOptions(url.value)
    } catch (error) {
      // The value may carry a password: name the setting, never echo the value.
      throw new Error(`${url.name} is malformed: ${(error as Error).message}`)
    }
    options.url = url.value
  } else if (sentinels) {
    options.sentinels = addressListSetting(sentinels)
    options.name = settings.sentinelName?.value ?? DEFAULT_SENTINEL_NAME
    if (settings.sentinelPassword) options.sentinelPassword = settings.sentinelPassword.value
  } else if (cluster) {
    options.cluster = addressListSetting(cluster)
  }
  const { username, password, tls, timeoutMs, autoPipelining } = settings
  if (username) options.username = username.value
  if (password) options.password = password.value
  if (flagSetting(tls)) options.tls = true
  if (timeoutMs) options.commandTimeoutMs = integerSetting(timeoutMs, 0)
  if (autoPipelining) options.autoPipelining = flagSetting(autoPipelining)
  return options
}
