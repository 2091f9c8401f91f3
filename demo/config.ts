/**
 * Every setting the demo reads, from the environment (Node) or the Worker's bindings: parsed
 * here and nowhere else, on the library's setting parsers (`src/config/`), so an error names the
 * variable. Runtime-neutral: files (TLS) are read and stores opened by the entries.
 */
import { redisOptionsFromEnv } from '../src/config/redis.js'
import { flagSetting, integerSetting, pickSettings } from '../src/config/settings.js'
import type { RedisConnectOptions } from '../src/store/ioredis-connect.js'
import { generateKeySecret, type TokenKey } from '../src/token.js'

type Env = Readonly<Record<string, string | undefined>>

/**
 * Parses `SESSION_KEYS`: comma-separated `kid:secret` entries, secret = 32 bytes base64url, the
 * first one seals. When unset, a random key for this process (sessions end on restart) and a
 * warning. Throws a clear error for a malformed value.
 */
export function keysFromEnv(
  value: string | undefined,
  warn: (msg: string) => void = console.warn,
): TokenKey[] {
  if (value === undefined || value.trim() === '') {
    warn(
      'SESSION_KEYS is not set: using a random key for this process (development only; sessions end on restart)',
    )
    return [{ kid: 'dev', secret: generateKeySecret() }]
  }
  return value.split(',').map((entry, i) => {
    const [kid, secret, ...rest] = entry.trim().split(':')
    if (!kid || !secret || rest.length)
      throw new Error(`SESSION_KEYS entry ${i + 1} must be "kid:secret"`)
    return { kid, secret }
  })
}

/** `UPSTASH_REDIS_REST_URL` + `UPSTASH_REDIS_REST_TOKEN`, both or neither. */
export function upstashFromEnv(env: Env): { url: string; token: string } | undefined {
  const url = env.UPSTASH_REDIS_REST_URL
  const token = env.UPSTASH_REDIS_REST_TOKEN
  if (!url && !token) return undefined
  if (!url || !token)
    throw new Error('Set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN')
  return { url, token }
}

/** Which store the Node demo opens. */
export type StoreChoice =
  | { kind: 'upstash'; url: string; token: string }
  | {
      kind: 'redis'
      options: RedisConnectOptions
      /** WAIT for this many replicas on login and logout. */
      durability?: { replicas: number; timeoutMs: number }
    }
  | { kind: 'memory' }

/**
 * The Node demo's store: Upstash when its two variables are set (as on the Worker), else Redis
 * (`REDIS_URL`, Sentinel or Cluster variables, `REDIS_WAIT_REPLICAS` + `REDIS_WAIT_TIMEOUT_MS`
 * for WAIT on login and logout), else memory.
 */
export function storeChoiceFromEnv(env: Env): StoreChoice {
  const upstash = upstashFromEnv(env)
  if (upstash) return { kind: 'upstash', ...upstash }
  const options = redisOptionsFromEnv(env)
  if (!options) return { kind: 'memory' }
  const wait = pickSettings(env, {
    replicas: 'REDIS_WAIT_REPLICAS',
    timeoutMs: 'REDIS_WAIT_TIMEOUT_MS',
  })
  const replicas = integerSetting(wait.replicas, 0, { min: 0 })
  const timeoutMs = integerSetting(wait.timeoutMs, 500)
  return { kind: 'redis', options, ...(replicas > 0 && { durability: { replicas, timeoutMs } }) }
}

/** The Node demo's settings (`npm start`); see the README's environment table. */
export interface NodeDemoConfig {
  port: number
  host: string
  /** PEM file paths (`TLS_CERT` + `TLS_KEY`), both or neither. */
  tls?: { certPath: string; keyPath: string }
  /** `TRUST_PROXY=1`: plain HTTP behind one TLS-terminating proxy. */
  trustProxy: boolean
  keys: TokenKey[]
  /** `SESSION_FAIL_OPEN=1`: anonymous sessions while the store is down (default 503). */
  failOpen: boolean
  /** `METRICS_TOKEN`: the bearer token of `/metrics` (unset: loopback clients only). */
  metricsToken?: string
  store: StoreChoice
}

/** Parses the Node demo's environment; throws an Error naming the variable of a bad value. */
export function nodeDemoConfig(env: Env, warn?: (msg: string) => void): NodeDemoConfig {
  const given = pickSettings(env, {
    port: 'PORT',
    host: 'HOST',
    certPath: 'TLS_CERT',
    keyPath: 'TLS_KEY',
    trustProxy: 'TRUST_PROXY',
    failOpen: 'SESSION_FAIL_OPEN',
    metricsToken: 'METRICS_TOKEN',
  })
  const { certPath, keyPath } = given
  if (Boolean(certPath) !== Boolean(keyPath))
    throw new Error('Set both TLS_CERT and TLS_KEY (PEM file paths)')
  return {
    port: integerSetting(given.port, 8787, { min: 0, max: 65535 }),
    host: given.host?.value ?? '127.0.0.1',
    ...(certPath && keyPath && { tls: { certPath: certPath.value, keyPath: keyPath.value } }),
    trustProxy: flagSetting(given.trustProxy),
    keys: keysFromEnv(env.SESSION_KEYS, warn),
    failOpen: flagSetting(given.failOpen),
    ...(given.metricsToken && { metricsToken: given.metricsToken.value }),
    store: storeChoiceFromEnv(env),
  }
}

/** The Worker and Pages demo's settings, from its bindings (see wrangler.toml). */
export interface WorkerDemoConfig {
  keys: TokenKey[]
  /** Without it: the memory store, per isolate. */
  upstash?: { url: string; token: string }
  /** `LOG_REQUESTS=0` turns the per-request log line off. */
  logRequests: boolean
}

/** Parses the Worker's string bindings; throws an Error naming the variable of a bad value. */
export function workerDemoConfig(env: Env): WorkerDemoConfig {
  const upstash = upstashFromEnv(env)
  return {
    keys: keysFromEnv(env.SESSION_KEYS),
    ...(upstash && { upstash }),
    logRequests: flagSetting(pickSettings(env, { log: 'LOG_REQUESTS' }).log, true),
  }
}
