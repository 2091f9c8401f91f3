/**
 * The ioredis store (Node): standalone, Sentinel and Cluster, one Lua script per store call.
 */
import type { ChainableCommander, Cluster, Pipeline, Redis } from 'ioredis'
import { Command } from './ioredis-package.js'
import { StoreError, withTimeout } from '../errors.js'
import { connectRedis, type RedisConnectOptions } from './ioredis-connect.js'
import { assertPrefix, DEFAULT_PREFIX } from './redis/layout.js'
import type { ScriptCall, ScriptExec } from './redis/runner.js'
import { parseInfo } from './redis/info.js'
import { plainReader } from './redis/fast-read.js'
import { keySlot } from './redis/slot.js'
import { bounded, boundedStore, redisScriptStore } from './redis/store.js'
import type { Store, StoreHealth } from './types.js'

export { BatchingRedis } from './write-batching.js'
export { connectRedis, type RedisConnectOptions } from './ioredis-connect.js'

/**
 * Options of {@link ioredisStore}: a client, or where to connect (see `connectRedis`; without
 * `stringNumbers`: the store reads integer replies as numbers).
 */
export interface IoredisStoreOptions extends Omit<RedisConnectOptions, 'stringNumbers'> {
  /**
   * A client to use as is (never closed by the store). When absent, the store connects. For
   * batched writes on a client of your own, make it a {@link BatchingRedis}.
   */
  client?: Redis | Cluster
  /** Key prefix, without `{` or `}`. Default `sess:`. */
  prefix?: string
  /** Bound on each store call, milliseconds (also the client's command timeout). Default 500. */
  commandTimeoutMs?: number
  /**
   * After create, destroy and destroyUser, `WAIT replicas timeoutMs` on the node that ran the
   * script, pipelined with it (still one round trip). When fewer replicas acknowledge, the call
   * rejects with a {@link StoreError}: the write happened on the master but may be lost by a
   * failover, and the caller should treat the login or logout as failed. Default: no WAIT.
   */
  durability?: { replicas: number; timeoutMs: number }
  /**
   * Serve a read whose extension cannot be due with one `HGETALL` instead of the load script
   * (the script's checks are made on the reply; see `fast-read.ts`). It trades Redis CPU for app
   * CPU: Redis spends about an eighth of the time on the read (2.0 µs against 16.9 µs of
   * commandstats time in `npm run bench:capacity`), but ioredis decodes the reply's array
   * element by element, about 15 µs more app CPU per read than the script's one JSON string
   * (40-55k instructions). Turn it on when Redis CPU is what limits you (many app instances per
   * Redis shard). Default `false`.
   */
  plainReads?: boolean
}

/** The ioredis store: a {@link Store} plus the client it uses. */
export interface IoredisStore extends Store {
  readonly client: Redis | Cluster
  close(): Promise<void>
}

const DEFAULT_TIMEOUT_MS = 500

/**
 * Creates a session store on Redis 6+ through ioredis.
 *
 * @param options.client - an ioredis `Redis` or `Cluster` (kept open on `close()`), or
 * @param options.url / options.sentinels + options.name / options.cluster - where to connect
 * @param options.prefix - key prefix. Default `sess:`
 * @param options.commandTimeoutMs - bound on every call, milliseconds. Default 500
 * @param options.durability - `{ replicas, timeoutMs }` for WAIT after logins and logouts
 * @param options.plainReads - reads without a script when no extension can be due. Default false
 * @example
 * ```ts
 * import { ioredisStore } from 'hono-redis-session/ioredis'
 * const store = ioredisStore({ url: process.env.REDIS_URL })
 * app.use(session({ store, keys }))
 * ```
 */
export function ioredisStore(options: IoredisStoreOptions): IoredisStore {
  const {
    client: given,
    prefix = DEFAULT_PREFIX,
    commandTimeoutMs = DEFAULT_TIMEOUT_MS,
    durability,
    plainReads = false,
    ...connect
  } = options
  assertPrefix(prefix)
  if (!(commandTimeoutMs > 0))
    throw new Error('ioredis store option "commandTimeoutMs" must be positive')
  if (
    durability &&
    !(Number.isInteger(durability.replicas) && durability.replicas > 0 && durability.timeoutMs > 0)
  ) {
    throw new Error(
      'ioredis store option "durability" needs a positive integer "replicas" and a positive "timeoutMs"',
    )
  }
  const client = given ?? connectRedis({ ...connect, commandTimeoutMs })
  const cluster = client.isCluster

  const plain = ioredisExec(client)
  const exec: ScriptExec = (call: ScriptCall) => {
    if (!(call.durable && durability)) return plain(call)
    const [command, first] = call.bySha ? ['evalsha', call.sha] : ['eval', call.script.source]
    return withWait(command, [first, call.keys.length, ...call.keys, ...call.args], durability)
  }

  async function withWait(
    command: string,
    args: (string | number)[],
    durability: NonNullable<IoredisStoreOptions['durability']>,
  ): Promise<unknown> {
    // EVAL(SHA) and WAIT in one pipeline: one round trip, and on Cluster WAIT goes to the
    // node that owns the script's slot (ioredis sends a keyless command with its pipeline).
    // WAIT blocks up to timeoutMs by design: arm its own timer before the client's command
    // timeout would (ioredis keeps the first timer armed on a command).
    const wait = new Command('wait', [durability.replicas, durability.timeoutMs])
    wait.setTimeout(commandTimeoutMs + durability.timeoutMs)
    const pipeline = client.pipeline().call(command, ...args) as ChainableCommander &
      Pick<Pipeline, 'sendCommand'>
    pipeline.sendCommand(wait)
    const replies = (await pipeline.exec()) ?? []
    const [[scriptError, reply] = [], [waitError, acked] = []] = replies
    if (scriptError) throw scriptError
    if (waitError) throw waitError
    if (Number(acked) < durability.replicas) {
      throw new StoreError(
        `write acknowledged by ${Number(acked)} of ${durability.replicas} replicas in ${durability.timeoutMs} ms`,
      )
    }
    return reply
  }

  const core = redisScriptStore({
    exec,
    prefix,
    colocated: cluster ? (a, b) => keySlot(a) === keySlot(b) : () => true,
    plain: plainReads ? plainReader((key) => client.call('HGETALL', key), prefix) : undefined,
  })
  const writeMs = commandTimeoutMs + (durability?.timeoutMs ?? 0)

  return {
    client,
    ...boundedStore(core, 'redis store', commandTimeoutMs, writeMs),
    timeoutMs: writeMs,
    ping: () => bounded('redis store', 'ping', commandTimeoutMs, () => ping(client)),
    async close() {
      if (given) return
      try {
        await withTimeout(client.quit(), commandTimeoutMs, 'redis store close')
      } catch {
        // unreachable: drop the connection instead
      }
      // Also after a clean QUIT: ioredis only stops a Sentinel client's failover-detector
      // connections (which would otherwise reconnect forever) in disconnect().
      if (!cluster) client.disconnect()
    },
  }
}

/** PING, plus the role and replication state of a single server (INFO replication). */
async function ping(client: Redis | Cluster): Promise<StoreHealth> {
  const started = performance.now()
  if (client.isCluster) {
    const masters = (client as Cluster).nodes('master')
    await (masters.length ? Promise.all(masters.map((node) => node.ping())) : client.ping())
    const latencyMs = performance.now() - started
    return {
      latencyMs,
      details: { mode: 'cluster', masters: masters.length, status: client.status },
    }
  }
  const replies = (await client.pipeline().ping().info('replication').exec()) ?? []
  const latencyMs = performance.now() - started
  for (const [err] of replies) if (err) throw err
  const info = parseInfo(String(replies[1]?.[1] ?? ''))
  const details: Record<string, unknown> = {
    mode: (client as Redis).options.sentinels ? 'sentinel' : 'standalone',
  }
  details.role = info.get('role')
  if (info.has('connected_slaves')) details.replicas = Number(info.get('connected_slaves'))
  if (info.has('master_link_status')) details.masterLinkStatus = info.get('master_link_status')
  return { latencyMs, details }
}

/** Sends a script call as one EVALSHA or EVAL on an ioredis client (no WAIT). */
export function ioredisExec(client: Redis | Cluster): ScriptExec {
  return (call) => {
    const n = call.keys.length
    // the named commands: ioredis' generic call() costs more per command
    return call.bySha
      ? client.evalsha(call.sha, n, ...call.keys, ...call.args)
      : client.eval(call.script.source, n, ...call.keys, ...call.args)
  }
}
