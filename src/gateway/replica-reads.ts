/**
 * Where a request runs (the primary, or with `readFrom: 'replicas'` a replica that has caught
 * up with the request's sync token) and the sync token of its response.
 *
 * A replica serves only requests made entirely of the data reads below, and only while its
 * link to the primary is up and its offset has reached the token: its `ROLE` goes in front of
 * the reads on the same connection, so what they see is at least that offset. Requests without
 * a token too, but never while unlinked (its data could be of any age). A replica behind the
 * token, unlinked, unreachable or answering LOADING/BUSY leaves the request to the primary (the
 * replica's replies are dropped): one more round trip, only then. One that is unlinked, failing
 * or no replica at all (promoted) is left out for a second, not tried by every request.
 *
 * Never on a replica: scripts (EVAL and EVALSHA may write, as the session load script does
 * when it extends a TTL, and their cache is the primary's), transactions, SCAN cursors (each
 * server's own), TOUCH and OBJECT (the primary's LRU/LFU), DBSIZE and RANDOMKEY (a replica
 * counts keys that expired but are not deleted yet), server and health commands.
 */
import type { Context } from 'hono'
import type { Cluster, Redis } from 'ioredis'
import type { GatewayCommand } from './commands.js'
import { isCluster, type Outcome } from './execute.js'
import {
  askRole,
  offsetAfter,
  SYNC_TOKEN_HEADER,
  wantedOffset,
  type OffsetAfter,
} from './sync-token.js'

/** Where read-only requests go. */
export type ReadFrom = 'primary' | 'replicas'

/** Data reads a replica answers as the primary would once it has the same data. */
// prettier-ignore
const REPLICA_READS = new Set([
  'GET', 'GETRANGE', 'MGET', 'STRLEN', 'SUBSTR', 'BITCOUNT', 'BITPOS', 'GETBIT', 'BITFIELD_RO',
  'HEXISTS', 'HGET', 'HGETALL', 'HKEYS', 'HLEN', 'HMGET', 'HRANDFIELD', 'HSTRLEN', 'HVALS',
  'LINDEX', 'LLEN', 'LPOS', 'LRANGE',
  'SCARD', 'SDIFF', 'SINTER', 'SISMEMBER', 'SMEMBERS', 'SMISMEMBER', 'SRANDMEMBER', 'SUNION',
  'ZCARD', 'ZCOUNT', 'ZDIFF', 'ZINTER', 'ZLEXCOUNT', 'ZMSCORE', 'ZRANDMEMBER', 'ZRANGE',
  'ZRANGEBYLEX', 'ZRANGEBYSCORE', 'ZRANK', 'ZREVRANGE', 'ZREVRANGEBYLEX', 'ZREVRANGEBYSCORE',
  'ZREVRANK', 'ZSCORE', 'ZUNION',
  'PFCOUNT', 'GEODIST', 'GEOHASH', 'GEOPOS', 'GEORADIUS_RO', 'GEORADIUSBYMEMBER_RO', 'GEOSEARCH',
  'XLEN', 'XRANGE', 'XREVRANGE', 'XREAD',
  'EXISTS', 'PTTL', 'TTL', 'TYPE',
])

/** Whether a replica may answer the command (the allowlist has accepted it already). */
export function replicaMayServe(command: GatewayCommand): boolean {
  return REPLICA_READS.has(command.name)
}

/** How long a replica found unlinked, failing or not a replica is left out, milliseconds. */
const BENCH_MS = 1000

/** Replica replies that say "not now" rather than answer: the primary is asked instead. */
const REPLICA_TROUBLE = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN)\b/

export interface ReadRouterOptions {
  primary: Redis | Cluster
  /** Connections to replicas (Sentinel `role: 'slave'` clients); used with `readFrom: 'replicas'`. */
  replicas: Redis[]
  readFrom: ReadFrom
}

/** Runs requests where they may run and gives each response its sync token. */
export interface ReadRouter {
  /**
   * Runs `work` (which sends its commands at once, on the client it is given) on the primary or
   * a replica, and records the response's token ({@link ReadRouter.tokenOf}): the offset its
   * answer reflects.
   */
  run(
    c: Context,
    commands: GatewayCommand[],
    work: (client: Redis | Cluster) => Promise<Outcome[]>,
  ): Promise<Outcome[]>
  /** Sets the token of a response that ran nothing (refused, failed, timed out); once per request. */
  settle(c: Context): void
  /** The token the response carries, once `run` or `settle` set it (none on a Cluster). */
  tokenOf(c: Context): string | undefined
}

/**
 * Routing and tokens for one gateway. On a Cluster every command runs on its slot's master
 * and no token is sent: offsets are per shard, and a master is never behind itself.
 *
 * Tokens: a request that may write gets the primary's offset from a `ROLE` behind it; a read
 * on a replica gets the replica's offset; anything else (a data read on the primary, a refusal)
 * keeps the request's token (the client's own writes are all below it) or the last offset the
 * gateway measured, whichever is higher, without asking.
 */
export function createReadRouter({ primary, replicas, readFrom }: ReadRouterOptions): ReadRouter {
  if (isCluster(primary)) {
    return { run: (_c, _commands, work) => work(primary), settle() {}, tokenOf: () => undefined }
  }
  const after: OffsetAfter = offsetAfter(primary)
  /** The highest offset measured so far (a lower bound of the primary's). */
  let seen = -1
  void after().then((offset) => offset !== undefined && offset > seen && (seen = offset))
  /** Each request's token (null: none to send), set once. */
  const tokens = new WeakMap<Request, string | null>()
  /** Sets the token once: the offset measured, else the request's token or `seen`. */
  const settle = (c: Context, measured?: number) => {
    if (tokens.has(c.req.raw)) return // a timed-out request's answer has left already
    if (measured !== undefined) {
      if (measured > seen) seen = measured
      return void tokens.set(c.req.raw, String(measured))
    }
    const { offset, token } = wantedOffset(c.req.header(SYNC_TOKEN_HEADER))
    if (token !== undefined && offset > seen) tokens.set(c.req.raw, token)
    else tokens.set(c.req.raw, seen >= 0 ? String(seen) : null)
  }

  let turn = 0
  /** Replicas found unlinked or failing, and until when they are left out. */
  const benched = new Map<Redis, number>()
  /** The next replica whose connection is up and that was not benched lately, round robin. */
  const pickReplica = (): Redis | undefined => {
    const now = Date.now()
    for (let i = 0; i < replicas.length; i++) {
      const replica = replicas[turn++ % replicas.length]!
      if (replica.status === 'ready' && !((benched.get(replica) ?? 0) > now)) return replica
    }
    return undefined
  }
  /** A replica in trouble costs each request a wasted try: it rests for BENCH_MS first. */
  const bench = (replica: Redis) => {
    benched.set(replica, Date.now() + BENCH_MS)
    return undefined
  }

  /** The reads on a replica at or past the token, else undefined (the replica's replies dropped). */
  const onReplica = async (
    c: Context,
    work: (client: Redis) => Promise<Outcome[]>,
  ): Promise<Outcome[] | undefined> => {
    const replica = pickReplica()
    if (!replica) return undefined
    const wanted = wantedOffset(c.req.header(SYNC_TOKEN_HEADER)).offset
    const state = askRole(replica) // in front of the reads, on the same connection
    const reads = work(replica)
    reads.catch(() => {}) // awaited below only when the replica qualifies
    const at = await state
    if (!at || at.role !== 'slave' || !at.linked) return bench(replica)
    if (at.offset < wanted) return undefined // behind: another request may find it caught up
    const outcomes = await reads
    const troubled = outcomes.some(
      (o) => !o.ok && (o.status !== 400 || REPLICA_TROUBLE.test(o.error)),
    )
    if (troubled) return bench(replica)
    settle(c, at.offset)
    return outcomes
  }

  return {
    async run(c, commands, work) {
      const reads = commands.length > 0 && commands.every(replicaMayServe)
      if (reads && readFrom === 'replicas') {
        const outcomes = await onReplica(c, work)
        if (outcomes) return outcomes
      }
      if (reads) {
        const outcomes = await work(primary)
        settle(c) // a read on the primary: the request's token still holds
        return outcomes
      }
      const outcomes = work(primary)
      const offset = after() // behind the commands work() has just sent
      const [done, at] = await Promise.all([outcomes, offset])
      settle(c, at)
      return done
    },
    settle,
    tokenOf: (c) => tokens.get(c.req.raw) ?? undefined,
  }
}
