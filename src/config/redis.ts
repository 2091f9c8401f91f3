/**
 * Where Redis is, from the environment or from command-line flags: the one parser the demo,
 * the gateway and the ops CLI share. Each setting carries the name it came from (a variable or
 * a flag), so an error names what the user typed, never the value (it may hold a password).
 */
import {
  DEFAULT_SENTINEL_NAME,
  urlOptions,
  type RedisConnectOptions,
} from '../store/ioredis-connect.js'

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
export type RedisSettings = Partial<Record<RedisSetting, { value: string; name: string }>>

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
  const out: RedisSettings = {}
  for (const [setting, name] of Object.entries(REDIS_VARIABLES) as [RedisSetting, string][]) {
    const raw = env[name]
    // passwords may legitimately have edge spaces
    const value = setting === 'password' ? raw : raw?.trim()
    if (value) out[setting] = { value, name }
  }
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
    options.sentinels = parseAddressList(sentinels)
    options.name = settings.sentinelName?.value ?? DEFAULT_SENTINEL_NAME
    if (settings.sentinelPassword) options.sentinelPassword = settings.sentinelPassword.value
  } else if (cluster) {
    options.cluster = parseAddressList(cluster)
  }
  const { username, password, tls, timeoutMs, autoPipelining } = settings
  if (username) options.username = username.value
  if (password) options.password = password.value
  if (tls && parseFlag(tls)) options.tls = true
  if (timeoutMs) options.commandTimeoutMs = parsePositiveInt(timeoutMs)
  if (autoPipelining) options.autoPipelining = parseFlag(autoPipelining)
  return options
}

type Setting = { value: string; name: string }

/** Parses `host:port,host:port` (IPv6 as `[addr]:port`). */
function parseAddressList({ value, name }: Setting): { host: string; port: number }[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (items.length === 0) throw new Error(`${name} must list at least one host:port`)
  return items.map((item) => {
    const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(item)
    const port = match ? Number(match[3]) : NaN
    if (!match || port < 1 || port > 65535) {
      throw new Error(`${name} must be a comma-separated list of host:port, got "${item}"`)
    }
    return { host: (match[1] ?? match[2])!, port }
  })
}

function parsePositiveInt({ value, name }: Setting): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) {
    throw new Error(`${name} must be a positive integer (milliseconds), got "${value}"`)
  }
  return Number(value)
}

function parseFlag({ value, name }: Setting): boolean {
  const v = value.trim().toLowerCase()
  if (v === '1' || v === 'true' || v === 'yes') return true
  if (v === '0' || v === 'false' || v === 'no') return false
  throw new Error(`${name} must be 1 or 0, got "${value}"`)
}
