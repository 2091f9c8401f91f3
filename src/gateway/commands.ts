/**
 * Which Redis commands the gateway runs, and for whom.
 *
 * An allowlist, not a denylist: a command that is not listed is refused, whatever Redis would
 * say about it. Entries are `NAME` or `NAME SUBCOMMAND` (upper case). Read commands may be run
 * with a read-only token; everything else needs a read-write token.
 */

/** Commands that only read; allowed for read-only and read-write tokens. */
// prettier-ignore
const READ = [
  // strings and bitmaps
  'GET', 'GETRANGE', 'MGET', 'STRLEN', 'SUBSTR', 'BITCOUNT', 'BITPOS', 'GETBIT', 'BITFIELD_RO',
  // hashes
  'HEXISTS', 'HGET', 'HGETALL', 'HKEYS', 'HLEN', 'HMGET', 'HRANDFIELD', 'HSCAN', 'HSTRLEN', 'HVALS',
  // lists
  'LINDEX', 'LLEN', 'LPOS', 'LRANGE',
  // sets
  'SCARD', 'SDIFF', 'SINTER', 'SISMEMBER', 'SMEMBERS', 'SMISMEMBER', 'SRANDMEMBER', 'SSCAN', 'SUNION',
  // sorted sets
  'ZCARD', 'ZCOUNT', 'ZDIFF', 'ZINTER', 'ZLEXCOUNT', 'ZMSCORE', 'ZRANDMEMBER', 'ZRANGE',
  'ZRANGEBYLEX', 'ZRANGEBYSCORE', 'ZRANK', 'ZREVRANGE', 'ZREVRANGEBYLEX', 'ZREVRANGEBYSCORE',
  'ZREVRANK', 'ZSCAN', 'ZSCORE', 'ZUNION',
  // hyperloglog, geo, streams
  'PFCOUNT', 'GEODIST', 'GEOHASH', 'GEOPOS', 'GEORADIUS_RO', 'GEORADIUSBYMEMBER_RO', 'GEOSEARCH',
  'XLEN', 'XRANGE', 'XREVRANGE', 'XREAD',
  // keys
  'EXISTS', 'PTTL', 'TTL', 'TYPE', 'SCAN', 'RANDOMKEY', 'TOUCH',
  'OBJECT ENCODING', 'OBJECT FREQ', 'OBJECT IDLETIME', 'OBJECT REFCOUNT',
  // scripts, server, cluster introspection
  'SCRIPT EXISTS', 'PING', 'ECHO', 'TIME', 'DBSIZE', 'INFO', 'MEMORY USAGE',
  'CLUSTER INFO', 'CLUSTER KEYSLOT', 'CLUSTER SLOTS', 'CLUSTER NODES', 'CLUSTER MYID',
  'CLUSTER COUNTKEYSINSLOT',
]

/** Commands that write (or may write); read-write tokens only. */
// prettier-ignore
const WRITE = [
  'APPEND', 'DECR', 'DECRBY', 'GETDEL', 'GETEX', 'GETSET', 'INCR', 'INCRBY', 'INCRBYFLOAT', 'MSET',
  'MSETNX', 'PSETEX', 'SET', 'SETEX', 'SETNX', 'SETRANGE', 'BITFIELD', 'BITOP', 'SETBIT',
  'HDEL', 'HINCRBY', 'HINCRBYFLOAT', 'HMSET', 'HSET', 'HSETNX',
  'LINSERT', 'LMOVE', 'LPOP', 'LPUSH', 'LPUSHX', 'LREM', 'LSET', 'LTRIM', 'RPOP', 'RPOPLPUSH',
  'RPUSH', 'RPUSHX',
  'SADD', 'SDIFFSTORE', 'SINTERSTORE', 'SMOVE', 'SPOP', 'SREM', 'SUNIONSTORE',
  'ZADD', 'ZDIFFSTORE', 'ZINCRBY', 'ZINTERSTORE', 'ZPOPMAX', 'ZPOPMIN', 'ZRANGESTORE', 'ZREM',
  'ZREMRANGEBYLEX', 'ZREMRANGEBYRANK', 'ZREMRANGEBYSCORE', 'ZUNIONSTORE',
  'PFADD', 'PFMERGE', 'GEOADD', 'GEORADIUS', 'GEORADIUSBYMEMBER', 'GEOSEARCHSTORE',
  'XADD', 'XDEL', 'XTRIM',
  'COPY', 'DEL', 'EXPIRE', 'EXPIREAT', 'PERSIST', 'PEXPIRE', 'PEXPIREAT', 'RENAME', 'RENAMENX',
  'UNLINK',
  'EVAL', 'EVALSHA', 'SCRIPT LOAD', 'WAIT',
]

/**
 * Commands no configuration can enable: they change the state of the connection the gateway
 * shares between all its callers (a MULTI on `/` would swallow everybody's commands), stream
 * (no streaming over this API) or block the shared connection indefinitely.
 */
// prettier-ignore
const NEVER = [
  'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'SELECT', 'SWAPDB', 'AUTH', 'HELLO', 'RESET',
  'QUIT', 'CLIENT', 'MONITOR', 'SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE',
  'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'SYNC', 'PSYNC', 'READONLY', 'READWRITE', 'ASKING',
  'BLPOP', 'BRPOP', 'BLMOVE', 'BRPOPLPUSH', 'BZPOPMIN', 'BZPOPMAX', 'BLMPOP', 'BZMPOP', 'XREADGROUP',
]

/** Commands that have subcommands; the policy looks them up as `NAME SUBCOMMAND`. */
const CONTAINERS = new Set([
  'SCRIPT',
  'OBJECT',
  'MEMORY',
  'CLUSTER',
  'CONFIG',
  'CLIENT',
  'ACL',
  'XINFO',
  'XGROUP',
  'COMMAND',
  'FUNCTION',
  'DEBUG',
  'MODULE',
  'LATENCY',
  'SLOWLOG',
])

/** Transaction commands: only through POST /multi-exec. */
const TRANSACTION = /^(MULTI|EXEC|WATCH|DISCARD|UNWATCH)$/

/** Keyless commands that would see one random shard of a Cluster: refused there. */
const NOT_ON_CLUSTER = new Set(['SCAN', 'DBSIZE', 'RANDOMKEY', 'WAIT'])

/** A command after validation: upper-case name, arguments as strings. */
export interface GatewayCommand {
  name: string
  args: string[]
}

/** How the allowlist treats one command for one caller. */
export interface CommandPolicy {
  /** Error text when the command may not run, else null. */
  check(command: GatewayCommand, readOnly: boolean): string | null
}

export interface CommandPolicyOptions {
  /** Extra entries (`NAME` or `NAME SUBCOMMAND`), for read-write tokens. */
  allowCommands?: string[]
  /** Entries removed from the allowlist, for every token. */
  denyCommands?: string[]
  /** Whether the target is a Cluster (some keyless commands are refused there). */
  cluster: boolean
  /** Upper bound of `WAIT`'s timeout, milliseconds (the request timeout). */
  maxWaitMs: number
  /** Largest count a command may ask for (RAND family, POPs, SCAN and XRANGE COUNT, ...). */
  maxCount: number
  /** Which scripts EVAL, EVALSHA and SCRIPT LOAD may name. Default: every script. */
  scripts?: { check(command: GatewayCommand): string | null }
}

/** `NAME` or `NAME SUBCOMMAND` as the policy keys it. */
export function commandKey(command: GatewayCommand): string {
  const sub = command.args[0]
  return CONTAINERS.has(command.name) && sub !== undefined
    ? `${command.name} ${sub.toUpperCase()}`
    : command.name
}

function normalise(entry: string): string {
  return entry.trim().replace(/\s+/g, ' ').toUpperCase()
}

/**
 * Builds the policy once; throws (naming the option) when `allowCommands` names a command
 * that can never be enabled.
 */
export function createCommandPolicy(options: CommandPolicyOptions): CommandPolicy {
  const deny = new Set((options.denyCommands ?? []).map(normalise))
  const extra = (options.allowCommands ?? []).map(normalise)
  for (const entry of extra) {
    if (NEVER.includes(entry.split(' ')[0]!)) {
      const hint = TRANSACTION.test(entry) ? ' (use POST /multi-exec)' : ''
      throw new Error(
        `createGateway: "allowCommands" cannot enable ${entry}: it would block or change the state of the shared Redis connection${hint}`,
      )
    }
  }
  const read = new Set(READ.filter((c) => !deny.has(c)))
  const write = new Set([...WRITE, ...extra].filter((c) => !deny.has(c) && !read.has(c)))

  return {
    check(command, readOnly) {
      const key = commandKey(command)
      const shown = key.toLowerCase()
      if (NEVER.includes(command.name)) {
        const hint = TRANSACTION.test(command.name) ? ': use POST /multi-exec for transactions' : ''
        return `ERR '${shown}' is not allowed through the gateway${hint}`
      }
      if (!read.has(key) && !write.has(key))
        return `ERR '${shown}' is not allowed through the gateway`
      if (readOnly && !read.has(key)) {
        return `NOPERM this token is read-only and has no permissions to run the '${shown}' command`
      }
      if (options.cluster && NOT_ON_CLUSTER.has(command.name)) {
        return `ERR '${shown}' is not supported through the gateway on a Redis Cluster: it would reach one random shard`
      }
      return (
        argumentProblem(command, options.maxWaitMs) ??
        countProblem(command, options.maxCount) ??
        options.scripts?.check(command) ??
        null
      )
    },
  }
}

/** Commands whose second argument is a count (negative: with repeats, as large). */
const POSITIONAL_COUNT = new Set([
  'HRANDFIELD',
  'SRANDMEMBER',
  'ZRANDMEMBER',
  'SPOP',
  'LPOP',
  'RPOP',
  'ZPOPMIN',
  'ZPOPMAX',
])
/** Commands with a `COUNT n` option, and where their options start. */
const COUNT_OPTION: Record<string, number> = {
  SCAN: 1,
  HSCAN: 2,
  SSCAN: 2,
  ZSCAN: 2,
  XRANGE: 3,
  XREVRANGE: 3,
  XREAD: 0,
  LPOS: 2,
  GEOSEARCH: 1,
  GEOSEARCHSTORE: 2,
  GEORADIUS: 5,
  GEORADIUSBYMEMBER: 4,
  GEORADIUS_RO: 5,
  GEORADIUSBYMEMBER_RO: 4,
}

/**
 * A count beyond `max` (one request could make Redis and the gateway build a reply of any size:
 * `HRANDFIELD key -3000000 WITHVALUES` took a gateway from 88 MB to 777 MB). `LPOS ... COUNT 0`
 * (every match) is refused too.
 */
function countProblem(command: GatewayCommand, max: number): string | null {
  const shown = command.name.toLowerCase()
  const tooLarge = (text: string | undefined, zeroIsAll = false) => {
    if (text === undefined || !/^-?\d+$/.test(text)) return false
    const n = Math.abs(Number(text))
    return n > max || (zeroIsAll && n === 0)
  }
  if (POSITIONAL_COUNT.has(command.name) && tooLarge(command.args[1])) {
    return `ERR '${shown}' count is limited to ${max} through the gateway (GATEWAY_MAX_COUNT)`
  }
  const from = COUNT_OPTION[command.name]
  if (from !== undefined) {
    for (let i = from; i < command.args.length - 1; i++) {
      const word = command.args[i]!.toUpperCase()
      if (command.name === 'XREAD' && word === 'STREAMS') break
      if (word === 'COUNT' && tooLarge(command.args[i + 1], command.name === 'LPOS')) {
        return `ERR '${shown}' COUNT is limited to 1..${max} through the gateway (GATEWAY_MAX_COUNT)`
      }
    }
  }
  return null
}

/** Arguments that would block the shared connection. */
function argumentProblem(command: GatewayCommand, maxWaitMs: number): string | null {
  if (command.name === 'XREAD' && command.args.some((a) => a.toUpperCase() === 'BLOCK')) {
    return "ERR 'xread' with BLOCK is not allowed through the gateway: it would block the shared connection"
  }
  // COPY ... DB n writes into another database than the one the gateway serves
  if (command.name === 'COPY' && command.args.slice(2).some((a) => a.toUpperCase() === 'DB')) {
    return "ERR 'copy' with DB is not allowed through the gateway: it would write into another database"
  }
  if (command.name === 'WAIT') {
    const timeout = Number(command.args[1])
    if (!/^\d+$/.test(command.args[1] ?? '') || timeout < 1 || timeout > maxWaitMs) {
      return `ERR 'wait' needs a timeout between 1 and ${maxWaitMs} milliseconds through the gateway`
    }
  }
  return null
}
