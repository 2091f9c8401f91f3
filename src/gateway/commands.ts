/**
 * Which Redis commands the gateway runs, and for whom.
 *
 * An allowlist, not a denylist: a command that is not listed is refused, whatever Redis would
 * say about it. Entries are `NAME` or `NAME SUBCOMMAND` (upper case). Read commands may be run
 * with a read-only token; everything else needs a read-write token. `allowCommands`
 * (`GATEWAY_ALLOW_COMMANDS`) opens more for read-write tokens, never those of {@link NEVER}.
 */
import { argumentProblem } from './arguments.js'

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
  'SCARD', 'SDIFF', 'SINTER', 'SINTERCARD', 'SISMEMBER', 'SMEMBERS', 'SMISMEMBER', 'SRANDMEMBER',
  'SSCAN', 'SUNION',
  // sorted sets
  'ZCARD', 'ZCOUNT', 'ZDIFF', 'ZINTER', 'ZLEXCOUNT', 'ZMSCORE', 'ZRANDMEMBER', 'ZRANGE',
  'ZRANGEBYLEX', 'ZRANGEBYSCORE', 'ZRANK', 'ZREVRANGE', 'ZREVRANGEBYLEX', 'ZREVRANGEBYSCORE',
  'ZREVRANK', 'ZSCAN', 'ZSCORE', 'ZUNION',
  // hyperloglog, geo
  'PFCOUNT', 'GEODIST', 'GEOHASH', 'GEOPOS', 'GEORADIUS_RO', 'GEORADIUSBYMEMBER_RO', 'GEOSEARCH',
  // streams and their consumer groups
  'XLEN', 'XRANGE', 'XREVRANGE', 'XREAD', 'XPENDING', 'XINFO GROUPS', 'XINFO CONSUMERS',
  'XINFO STREAM',
  // keys
  'EXISTS', 'PTTL', 'TTL', 'TYPE', 'SCAN', 'RANDOMKEY', 'TOUCH',
  'OBJECT ENCODING', 'OBJECT FREQ', 'OBJECT IDLETIME', 'OBJECT REFCOUNT',
  // scripts (read-only ones: Redis refuses their writes), functions, server, cluster introspection
  'EVAL_RO', 'EVALSHA_RO', 'SCRIPT EXISTS', 'FUNCTION LIST', 'FUNCTION STATS',
  'PING', 'ECHO', 'TIME', 'DBSIZE', 'INFO', 'MEMORY USAGE',
  'CLUSTER INFO', 'CLUSTER KEYSLOT', 'CLUSTER SLOTS', 'CLUSTER NODES', 'CLUSTER MYID',
  'CLUSTER COUNTKEYSINSLOT',
]

/** Commands that write (or may write, or act); read-write tokens only. */
// prettier-ignore
const WRITE = [
  'APPEND', 'DECR', 'DECRBY', 'GETDEL', 'GETEX', 'GETSET', 'INCR', 'INCRBY', 'INCRBYFLOAT', 'MSET',
  'MSETNX', 'PSETEX', 'SET', 'SETEX', 'SETNX', 'SETRANGE', 'BITFIELD', 'BITOP', 'SETBIT',
  'HDEL', 'HINCRBY', 'HINCRBYFLOAT', 'HMSET', 'HSET', 'HSETNX',
  'LINSERT', 'LMOVE', 'LMPOP', 'LPOP', 'LPUSH', 'LPUSHX', 'LREM', 'LSET', 'LTRIM', 'RPOP',
  'RPOPLPUSH', 'RPUSH', 'RPUSHX',
  'SADD', 'SDIFFSTORE', 'SINTERSTORE', 'SMOVE', 'SPOP', 'SREM', 'SUNIONSTORE',
  'ZADD', 'ZDIFFSTORE', 'ZINCRBY', 'ZINTERSTORE', 'ZPOPMAX', 'ZPOPMIN', 'ZRANGESTORE', 'ZREM',
  'ZREMRANGEBYLEX', 'ZREMRANGEBYRANK', 'ZREMRANGEBYSCORE', 'ZUNIONSTORE',
  'PFADD', 'PFMERGE', 'GEOADD', 'GEORADIUS', 'GEORADIUSBYMEMBER', 'GEOSEARCHSTORE',
  // streams; reading through a group moves its cursor and pending list: a write
  'XADD', 'XDEL', 'XTRIM', 'XREADGROUP', 'XACK', 'XCLAIM', 'XAUTOCLAIM', 'XGROUP CREATE',
  'XGROUP DESTROY', 'XGROUP CREATECONSUMER', 'XGROUP DELCONSUMER', 'XGROUP SETID',
  'COPY', 'DEL', 'EXPIRE', 'EXPIREAT', 'PERSIST', 'PEXPIRE', 'PEXPIREAT', 'RENAME', 'RENAMENX',
  'UNLINK', 'PUBLISH',
  'EVAL', 'EVALSHA', 'SCRIPT LOAD', 'WAIT',
]

/**
 * Functions run code stored in Redis, which the gateway cannot check by digest: in the
 * allowlist by default only with the script policy `any` (under `registered`, `FCALL` and
 * `FCALL_RO` are opened by naming them in `allowCommands`; loading code is refused there).
 */
const FUNCTION_READ = ['FCALL_RO']
const FUNCTION_WRITE = ['FCALL', 'FUNCTION LOAD', 'FUNCTION DELETE']

/**
 * Commands no configuration can enable, with the reason the error gives. `NAME` covers every
 * subcommand; `NAME SUB` that one.
 */
// prettier-ignore
const NEVER_GROUPS: [reason: string, entries: string[]][] = [
  ['it would block or change the state of the Redis connection the gateway shares between its callers', [
    'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'SELECT', 'AUTH', 'HELLO', 'RESET', 'QUIT',
    'CLIENT', 'MONITOR', 'SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE',
    'SUNSUBSCRIBE', 'SYNC', 'PSYNC', 'REPLCONF', 'READONLY', 'READWRITE', 'ASKING', 'BLPOP',
    'BRPOP', 'BLMOVE', 'BRPOPLPUSH', 'BZPOPMIN', 'BZPOPMAX', 'BLMPOP', 'BZMPOP', 'WAITAOF',
    'SCRIPT DEBUG',
  ]],
  ['it administers the whole server or reaches beyond it (configuration and files, replication, modules, users, cluster topology, other hosts)', [
    'CONFIG', 'DEBUG', 'SHUTDOWN', 'MIGRATE', 'MODULE', 'REPLICAOF', 'SLAVEOF', 'FAILOVER', 'ACL',
    'SAVE', 'CLUSTER MEET', 'CLUSTER FORGET', 'CLUSTER RESET', 'CLUSTER FAILOVER',
    'CLUSTER ADDSLOTS', 'CLUSTER ADDSLOTSRANGE', 'CLUSTER DELSLOTS', 'CLUSTER DELSLOTSRANGE',
    'CLUSTER SETSLOT', 'CLUSTER REPLICATE', 'CLUSTER FLUSHSLOTS', 'CLUSTER SAVECONFIG',
    'CLUSTER SET-CONFIG-EPOCH', 'CLUSTER BUMPEPOCH',
  ]],
  ['it reaches other databases than the one the gateway serves', ['SWAPDB', 'MOVE', 'FLUSHALL']],
  ['it loads serialized payloads that Redis does not check by default (sanitize-dump-payload)', [
    'RESTORE', 'RESTORE-ASKING', 'FUNCTION RESTORE',
  ]],
  ['on the shared connection it would wait behind the script it should stop (the gateway stops a script at the request deadline itself)', [
    'SCRIPT KILL', 'FUNCTION KILL',
  ]],
]
const NEVER = new Map(NEVER_GROUPS.flatMap(([reason, entries]) => entries.map((e) => [e, reason])))

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

/** Keyless commands that would see or change one random shard of a Cluster: refused there. */
const NOT_ON_CLUSTER = new Set(['SCAN', 'DBSIZE', 'RANDOMKEY', 'WAIT', 'KEYS', 'FLUSHDB'])

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
  /** Which scripts EVAL, EVALSHA, SCRIPT LOAD and FUNCTION LOAD may name. Default: every script. */
  scripts?: { mode: ScriptMode; check(command: GatewayCommand): string | null }
  /**
   * Whether the connected server knows a command (those of a newer Redis); false: refused with
   * a clear error, undefined: not known yet (let Redis answer).
   */
  serverKnows?: (name: string) => boolean | undefined
}

type ScriptMode = 'registered' | 'any'

/** Subcommands of FUNCTION that change the code stored in Redis (RESTORE never runs at all). */
export const FUNCTION_CODE_CHANGES: ReadonlySet<string> = new Set([
  'LOAD',
  'DELETE',
  'FLUSH',
  'RESTORE',
])

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

/** The reason a command (or an allowCommands entry) can never run, else undefined. */
function neverReason(key: string): string | undefined {
  return NEVER.get(key) ?? NEVER.get(key.split(' ')[0]!)
}

/** Which major version of Redis brought the commands the server may not know. */
const NEWER_SINCE: Record<string, string> = {
  EVAL_RO: '7.0',
  EVALSHA_RO: '7.0',
  LMPOP: '7.0',
  SINTERCARD: '7.0',
  FUNCTION: '7.0',
  FCALL: '7.0',
  FCALL_RO: '7.0',
}
/** The commands whose presence the gateway asks the server about (COMMAND INFO). */
export const NEWER_COMMANDS: readonly string[] = Object.keys(NEWER_SINCE)

/**
 * Why `allowCommands` (`GATEWAY_ALLOW_COMMANDS`) cannot open these entries, as the end of a
 * sentence after the option's name (`cannot enable CONFIG: ...`), or null when it can.
 */
export function allowCommandsProblem(
  entries: readonly string[],
  scripts: ScriptMode,
): string | null {
  for (const entry of entries.map(normalise)) {
    if (!/^[A-Z][A-Z0-9_.|-]*( [A-Z0-9_.|-]+)?$/.test(entry))
      return `cannot enable "${entry}": expected NAME or NAME SUBCOMMAND, e.g. FLUSHDB`
    const reason = neverReason(entry)
    if (reason) {
      const hint = TRANSACTION.test(entry) ? ' (use POST /multi-exec)' : ''
      return `cannot enable ${entry}: ${reason}${hint}`
    }
    const [name, sub = ''] = entry.split(' ')
    if (scripts === 'registered' && name === 'FUNCTION' && FUNCTION_CODE_CHANGES.has(sub))
      return `cannot enable ${entry}: it changes the code stored in Redis, which the script policy "registered" (GATEWAY_SCRIPTS) refuses; use "any"`
  }
  return null
}

/**
 * Builds the policy once; throws (naming the option) when `allowCommands` names a command that
 * can never be enabled, or one that changes stored code the script policy refuses.
 */
export function createCommandPolicy(options: CommandPolicyOptions): CommandPolicy {
  const deny = new Set((options.denyCommands ?? []).map(normalise))
  const extra = (options.allowCommands ?? []).map(normalise)
  const mode = options.scripts?.mode ?? 'any'
  const problem = allowCommandsProblem(extra, mode)
  if (problem) throw new Error(`createGateway: "allowCommands" ${problem}`)
  const anyScript = mode === 'any'
  const read = new Set([...READ, ...(anyScript ? FUNCTION_READ : [])])
  const write = new Set([...WRITE, ...(anyScript ? FUNCTION_WRITE : []), ...extra])
  // A command with subcommands named alone (in allowCommands or denyCommands) stands for every
  // subcommand; NEVER applies whatever the lists say.
  const listed = (set: Set<string>, key: string, name: string) =>
    set.has(key) || (key !== name && set.has(name))

  return {
    check(command, readOnly) {
      const key = commandKey(command)
      const shown = key.toLowerCase()
      if (neverReason(key)) {
        const hint = TRANSACTION.test(command.name) ? ': use POST /multi-exec for transactions' : ''
        return `ERR '${shown}' is not allowed through the gateway${hint}`
      }
      const isRead = listed(read, key, command.name)
      const allowed = isRead || listed(write, key, command.name)
      if (!allowed || listed(deny, key, command.name)) {
        const hint =
          !anyScript && (FUNCTION_READ.includes(key) || FUNCTION_WRITE.includes(key))
            ? `: with GATEWAY_SCRIPTS=registered the gateway runs no function code it cannot check (GATEWAY_SCRIPTS=any opens functions; GATEWAY_ALLOW_COMMANDS=FCALL,FCALL_RO calls those already loaded)`
            : ''
        return `ERR '${shown}' is not allowed through the gateway${hint}`
      }
      if (readOnly && !isRead) {
        return `NOPERM this token is read-only and has no permissions to run the '${shown}' command`
      }
      const since = NEWER_SINCE[command.name]
      if (since && options.serverKnows?.(command.name) === false) {
        return `ERR '${command.name.toLowerCase()}' is not supported by the connected Redis server: it came with Redis ${since}, and the server does not know it`
      }
      if (options.cluster && NOT_ON_CLUSTER.has(command.name)) {
        return `ERR '${shown}' is not supported through the gateway on a Redis Cluster: it would reach one random shard`
      }
      return argumentProblem(command, options) ?? options.scripts?.check(command) ?? null
    },
  }
}
