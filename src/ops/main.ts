#!/usr/bin/env node
/**
 * `hono-redis-session`: the ops CLI. Exit codes: 0 success, 1 a runtime failure (such as an
 * unreachable Redis, or ioredis not installed), 2 bad arguments.
 *
 * The modules that talk to Redis are imported by the commands that run them: ioredis is an
 * optional peer, so `keygen` and `--help` work without it and the other commands name it.
 */
import { Command, CommanderError, Option } from 'commander'
import { GATEWAY_HELP } from '../config/gateway.js'
import { DEFAULT_PREFIX } from '../store/redis/layout.js'
import { generateKeySecret } from '../token.js'
import type { ConnectionFlags, connect } from './connect.js'
import { CliError, UsageError, table, when } from './output.js'

type Flags = ConnectionFlags & { json?: boolean }

const program = new Command('hono-redis-session')
  .description(
    'Operate hono-redis-session stores on Redis 6: backup, restore, inspect, revoke, sweep.',
  )
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError()

/** The connection and output flags every Redis command takes. */
function redisCommand(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--redis-url <url>', 'redis:// or rediss:// URL (default: $REDIS_URL)')
    .option('--sentinels <host:port,...>', 'Sentinel addresses (default: $REDIS_SENTINELS)')
    .option(
      '--sentinel-name <name>',
      'Sentinel master name (default: $REDIS_SENTINEL_NAME or mymaster)',
    )
    .option('--cluster <host:port,...>', 'Cluster startup nodes (default: $REDIS_CLUSTER_NODES)')
    .option('--prefix <prefix>', 'key prefix', DEFAULT_PREFIX)
    .option('--timeout-ms <ms>', 'command timeout, milliseconds (default 2000)')
    .option('--json', 'machine-readable output')
}

/** Runs `fn` with a connected client and always disconnects. */
async function withRedis<T>(
  flags: Flags,
  fn: (client: Awaited<ReturnType<typeof connect>>['client']) => Promise<T>,
) {
  const { connect, disconnect } = await import('./connect.js')
  const { client } = await connect(flags)
  try {
    return await fn(client)
  } finally {
    await disconnect(client)
  }
}

const print = (flags: { json?: boolean }, data: unknown, text: () => string) =>
  console.log(flags.json ? JSON.stringify(data, null, 2) : text())

/** Rotation aliases left out of an export or import (not sessions: see isRotationAlias). */
const aliasesSkipped = (n: number) => `${n} rotation alias${n === 1 ? '' : 'es'} skipped`

const positive = (name: string, value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive whole number`)
  return n
}

program
  .command('keygen')
  .description('print a new key for the ring (kid:secret, 32 random bytes base64url)')
  .option('--kid <id>', 'key id (default k + today, e.g. k20261125)')
  .option('--json', 'machine-readable output')
  .action((flags: { kid?: string; json?: boolean }) => {
    const kid = flags.kid ?? `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(kid))
      throw new UsageError('--kid must be 1-64 characters [A-Za-z0-9._-]')
    const secret = generateKeySecret()
    console.log(flags.json ? JSON.stringify({ kid, secret }) : `${kid}:${secret}`)
  })

redisCommand(
  'export',
  'write every session and per-user item (TOTP secrets, claims, counters) with its remaining TTL as JSON lines',
)
  .option('--out <file>', 'write to a file (created 0600) instead of standard output')
  .option('--force', 'overwrite the --out file if it exists')
  .action(async (flags: Flags & { out?: string; force?: boolean }) => {
    const { exportSessions } = await import('./backup.js')
    const result = await withRedis(flags, (client) =>
      exportSessions(client, flags.prefix, flags.out, flags.force === true),
    )
    console.error(
      `exported ${result.exported} sessions and ${result.items} user items in ${result.seconds.toFixed(1)} s` +
        ` (${result.skipped} skipped, ${aliasesSkipped(result.aliases)})`,
    )
  })

redisCommand(
  'import',
  'restore sessions and per-user items from JSON lines, keeping TTLs and rebuilding indexes',
)
  .option('--in <file>', 'read a file instead of standard input')
  .addOption(
    new Option('--on-error <mode>', 'on a bad line: abort, or skip it')
      .choices(['abort', 'skip'])
      .default('abort'),
  )
  .option('--replace', 'overwrite sessions and items that already exist (default: keep them)')
  .action(async (flags: Flags & { in?: string; onError: 'abort' | 'skip'; replace?: boolean }) => {
    const options = { inPath: flags.in, onError: flags.onError, replace: flags.replace === true }
    const { importExit, importSessions } = await import('./backup.js')
    const result = await withRedis(flags, (client) => importSessions(client, flags.prefix, options))
    for (const e of result.errors) console.error(`error: ${e}`)
    console.error(
      `imported ${result.imported}, skipped ${result.skipped}, errors ${result.errors.length} in ${result.seconds.toFixed(1)} s` +
        ` (user items: ${result.items.imported} imported, ${result.items.skipped} skipped)` +
        `, ${aliasesSkipped(result.aliases)}`,
    )
    importExit(result.errors, flags.onError)
  })

redisCommand(
  'stats',
  'sessions, users, memory per session, replication, ops/s, slow commands',
).action(async (flags: Flags) => {
  const { stats } = await import('./inspect.js')
  const s = await withRedis(flags, (client) => stats(client, flags.prefix))
  print(flags, s, () =>
    [
      `sessions ${s.sessions} (${s.anonymousSessions} anonymous), users ${s.users}, ` +
        `rotation aliases ${s.rotationAliases}, ` +
        `memory per session ${s.memoryPerSession.averageBytes ?? '-'} bytes (sample of ${s.memoryPerSession.sampled})`,
      '',
      table(
        ['node', 'role', 'replicas', 'link', 'ops/s', 'memory', 'keys'],
        s.nodes.map((n) => [
          n.address,
          n.role,
          n.replicas,
          n.masterLinkStatus,
          n.opsPerSecond,
          n.usedMemory,
          n.keys,
        ]),
      ),
      '',
      s.slowlog.length
        ? table(
            ['node', 'time', 'µs', 'command'],
            s.slowlog.map((e) => [e.node, e.at, e.micros, e.command]),
          )
        : 'no slow commands on session keys',
    ].join('\n'),
  )
})

const sessions = program.command('sessions').description("list or revoke a user's sessions")
for (const cmd of [
  sessions.command('list').description("list a user's live sessions"),
  sessions.command('revoke').description("revoke one of a user's sessions, or all of them"),
]) {
  cmd
    .requiredOption('--user <id>', 'the user id')
    .option('--redis-url <url>', 'redis:// or rediss:// URL (default: $REDIS_URL)')
    .option('--sentinels <host:port,...>', 'Sentinel addresses')
    .option('--sentinel-name <name>', 'Sentinel master name')
    .option('--cluster <host:port,...>', 'Cluster startup nodes')
    .option('--prefix <prefix>', 'key prefix', DEFAULT_PREFIX)
    .option('--timeout-ms <ms>', 'command timeout, milliseconds')
    .option('--json', 'machine-readable output')
}
sessions.commands[0]!.action(async (flags: Flags & { user: string }) => {
  const { ioredisStore } = await import('../store/ioredis.js')
  const list = await withRedis(flags, (client) =>
    ioredisStore({ client, prefix: flags.prefix }).listUser(flags.user, Date.now()),
  )
  print(flags, list, () =>
    list.length
      ? table(
          ['id', 'created', 'last seen', 'expires', 'methods', 'client'],
          list.map((s) => [
            s.id,
            when(s.createdAt),
            when(s.lastSeenAt),
            when(s.expiresAt),
            s.amr?.join('+'),
            s.client?.slice(0, 40),
          ]),
        )
      : `no live sessions for ${flags.user}`,
  )
})
sessions.commands[1]!.option(
  '--session <id>',
  'the session id (from `sessions list`); without it: all',
).action(async (flags: Flags & { user: string; session?: string }) => {
  const { ioredisStore } = await import('../store/ioredis.js')
  const removed = await withRedis(flags, async (client) => {
    const store = ioredisStore({ client, prefix: flags.prefix })
    if (flags.session === undefined) return store.destroyUser(flags.user, Date.now())
    const list = await store.listUser(flags.user, Date.now())
    if (!list.some((s) => s.id === flags.session)) {
      throw new CliError(`no live session ${flags.session} for user ${flags.user}`)
    }
    await store.destroy({ id: flags.session, uid: flags.user })
    return 1
  })
  print(
    flags,
    { user: flags.user, removed },
    () => `revoked ${removed} session(s) of ${flags.user}`,
  )
})

redisCommand('sweep', 'prune stale user-index members (bounded, resumable)')
  .option('--count <n>', 'SCAN COUNT per call', '500')
  .option('--cursor <cursor>', 'resume from the cursor an earlier run printed')
  .option('--max-keys <n>', 'most index keys examined in this run', '10000')
  .action(async (flags: Flags & { count: string; cursor?: string; maxKeys: string }) => {
    const options = {
      cursor: flags.cursor,
      count: positive('--count', flags.count),
      maxKeys: positive('--max-keys', flags.maxKeys),
      now: Date.now(),
    }
    const { sweep } = await import('./inspect.js')
    const result = await withRedis(flags, (client) => sweep(client, flags.prefix, options))
    print(
      flags,
      result,
      () =>
        `indexes scanned ${result.indexesScanned}, members removed ${result.membersRemoved}` +
        (result.cursor ? `\nnot finished: resume with --cursor ${result.cursor}` : ''),
    )
  })

program
  .command('gateway')
  .description(
    'serve the Upstash-compatible REST gateway in front of Redis (the same variables as `npm run gateway`; flags override them)',
  )
  .option('--host <host>', 'interface to bind (GATEWAY_HOST, default 127.0.0.1)')
  .option('--port <port>', 'port (GATEWAY_PORT, default 8079)')
  .option('--redis-url <url>', 'redis://[user:pass@]host:port[/db] (REDIS_URL)')
  .option('--timeout-ms <ms>', 'per-request deadline (GATEWAY_TIMEOUT_MS, default 5000)')
  .option('--scripts <policy>', 'registered | any (GATEWAY_SCRIPTS, default registered)')
  .option('--script-files <files>', 'comma-separated Lua files to register (GATEWAY_SCRIPT_FILES)')
  .option('--max-count <n>', 'largest count a command may ask for (GATEWAY_MAX_COUNT)')
  .option('--max-reply-bytes <n>', 'largest reply (GATEWAY_MAX_REPLY_BYTES)')
  .option('--max-connections <n>', 'most open sockets (GATEWAY_MAX_CONNECTIONS)')
  .option(
    '--max-subscribers <n>',
    'most subscription streams, 0 for none (GATEWAY_MAX_SUBSCRIBERS, default 1000)',
  )
  .option(
    '--allow-commands <list>',
    'comma-separated commands opened for read-write tokens, e.g. FLUSHDB (GATEWAY_ALLOW_COMMANDS)',
  )
  .option('--read-from <where>', 'primary | replicas (GATEWAY_READ_FROM, default primary)')
  .addHelpText(
    'after',
    `\nTokens come from the environment only (a command line is visible to every user of the machine):\n${GATEWAY_HELP.map((v) => `  ${v}`).join('\n')}`,
  )
  .action(async (flags: Record<string, string | undefined>) => {
    const { runGatewayFrom } = await import('../gateway/run.js')
    const given = (value: string | undefined, name: string) =>
      value === undefined ? undefined : { value, name }
    await runGatewayFrom(process.env, {
      gateway: {
        host: given(flags.host, '--host'),
        port: given(flags.port, '--port'),
        timeoutMs: given(flags.timeoutMs, '--timeout-ms'),
        scripts: given(flags.scripts, '--scripts'),
        scriptFiles: given(flags.scriptFiles, '--script-files'),
        maxCount: given(flags.maxCount, '--max-count'),
        maxReplyBytes: given(flags.maxReplyBytes, '--max-reply-bytes'),
        maxConnections: given(flags.maxConnections, '--max-connections'),
        maxSubscribers: given(flags.maxSubscribers, '--max-subscribers'),
        allowCommands: given(flags.allowCommands, '--allow-commands'),
        readFrom: given(flags.readFrom, '--read-from'),
      },
      redis: { url: given(flags.redisUrl, '--redis-url') },
    })
    await new Promise(() => {}) // serves until SIGTERM / SIGINT, which exit the process
  })

try {
  await program.parseAsync(process.argv)
  process.exit(0)
} catch (err) {
  if (err instanceof CommanderError) {
    const ok =
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    process.exit(ok ? 0 : 2)
  }
  const code = err instanceof CliError ? err.exitCode : 1
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(code)
}
