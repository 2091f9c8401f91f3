/** The options of `createGateway` and their checks, made once at creation. */
import type { Cluster, Redis } from 'ioredis'
import { isCluster } from './execute.js'
import type { ReadFrom } from './replica-reads.js'
import type { ScriptPolicyMode } from './scripts.js'

export interface GatewayOptions {
  /**
   * The client to run commands on; must speak RESP2 and read integers as text (`protocol: 2`
   * and `stringNumbers: true`: `connectRedis({ ..., stringNumbers: true })`). Not closed by `close()`.
   */
  redis: Redis | Cluster
  /** Read-write bearer tokens (at least one, 16+ characters each). */
  tokens: string[]
  /** Bearer tokens that may run read commands only. Default none. */
  readOnlyTokens?: string[]
  /**
   * Extra allowlist entries (`NAME` or `NAME SUBCOMMAND`, e.g. `FLUSHDB`; a name alone opens
   * every subcommand), for read-write tokens; those unsafe by nature (`CONFIG`, `DEBUG`,
   * `MIGRATE`, ... see the README) throw. Default none.
   */
  allowCommands?: string[]
  /** Allowlist entries to refuse for every token (e.g. `EVAL`). Default none. */
  denyCommands?: string[]
  /** Largest request body, bytes. Default 1 MiB. */
  maxBodyBytes?: number
  /** Most commands per pipeline/transaction and most elements per command. Default 1000. */
  maxArrayLength?: number
  /** Deadline of one request (body reading included), milliseconds. Default 5000. */
  timeoutMs?: number
  /** Largest count a command may ask for (HRANDFIELD, SRANDMEMBER, SCAN COUNT, ...). Default 10000. */
  maxCount?: number
  /** Largest reply, bytes; a larger one answers 400 instead of being encoded. Default 8 MiB. */
  maxReplyBytes?: number
  /**
   * Which Lua scripts `EVAL`, `EVALSHA` and `SCRIPT LOAD` may run: `registered` (default: this
   * package's session scripts and `scripts`) or `any` (then connect as a restricted ACL user).
   */
  scriptPolicy?: ScriptPolicyMode
  /** Sources of more scripts to register (their SHA1 is what EVALSHA names). Default none. */
  scripts?: string[]
  /** Most subscription streams open at once, each on its own Redis connection; 0 turns them off. Default 1000. */
  maxSubscribers?: number
  /**
   * `primary` (default): every command runs on `redis`. `replicas`: requests made only of data
   * reads run on one of `replicas` that has caught up with the request's `Upstash-Sync-Token`,
   * else on the primary (not on a Cluster).
   */
  readFrom?: ReadFrom
  /** Clients connected to replicas (ioredis Sentinel `role: 'slave'`), RESP2. Not closed by `close()`. */
  replicas?: Redis[]
}

/** Refuses a client whose replies the gateway cannot pass on exactly. */
export function checkClient(redis: Redis | Cluster): void {
  if (!redis || typeof redis.callBuffer !== 'function' || typeof redis.multi !== 'function') {
    throw new Error(
      'createGateway requires options for "redis": an ioredis Redis or Cluster client',
    )
  }
  if ((connectionOption(redis, 'protocol') ?? 3) !== 2) {
    throw new Error(
      'createGateway: "redis" must use RESP2 (`protocol: 2`, as connectRedis() does): RESP3 replies have other shapes than Upstash answers with',
    )
  }
  if (connectionOption(redis, 'stringNumbers') !== true) {
    throw new Error(
      'createGateway: "redis" must read integers as text (`stringNumbers: true`, e.g. connectRedis({ ..., stringNumbers: true })): as JavaScript numbers, integers beyond 2^53 would be rounded',
    )
  }
}

/** Checks the read options: replicas are RESP2 clients, and needed to read from replicas. */
export function replicaOptions(options: GatewayOptions) {
  const { redis, readFrom = 'primary', replicas = [] } = options
  if (readFrom !== 'primary' && readFrom !== 'replicas')
    throw new Error('createGateway: "readFrom" must be "primary" or "replicas"')
  // replica replies go through the same encoder as the primary's: RESP2, integers as text
  const usable = (r: Redis) =>
    typeof r?.sendCommand === 'function' &&
    (connectionOption(r, 'protocol') ?? 3) === 2 &&
    connectionOption(r, 'stringNumbers') === true
  if (!replicas.every(usable))
    throw new Error(
      'createGateway: "replicas" must be ioredis clients using RESP2 with integers as text (`protocol: 2`, `stringNumbers: true`)',
    )
  if (readFrom === 'replicas' && (replicas.length === 0 || isCluster(redis)))
    throw new Error(
      'createGateway: readFrom "replicas" needs "replicas" (clients of the replicas a Sentinel lists), and a Sentinel or standalone primary, not a Cluster',
    )
  return { primary: redis, replicas, readFrom }
}

export function positiveInt(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`createGateway: "${option}" must be a positive integer`)
  return value
}

/** One connection option of the client (a Cluster's are in `redisOptions`). */
function connectionOption(redis: Redis | Cluster, name: 'protocol' | 'stringNumbers'): unknown {
  const options = redis.options as Record<string, unknown> & { redisOptions?: object }
  const own = 'redisOptions' in options ? options.redisOptions : options
  return (own as Record<string, unknown> | undefined)?.[name]
}
