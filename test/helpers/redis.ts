/**
 * Starts and stops real redis-server processes (standalone, Sentinel, Cluster) for tests.
 *
 * Every process listens on a free port on 127.0.0.1 and owns a temp dir. Only config options
 * that exist in Redis 6.0 are used, so the suite runs on 6.0, 6.2 and 7.x; pick the binaries
 * with REDIS_SERVER and REDIS_CLI. Call `stopAll()` in `afterAll`; an exit hook kills leftovers.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** A redis-server (or sentinel) process started by this module. */
export interface RedisServer {
  host: '127.0.0.1'
  port: number
  /** `redis://127.0.0.1:PORT` (no password, even when one is set). */
  url: string
  /** The server's own temp dir (data, config, log). */
  dir: string
  /** The pid while the process runs. */
  pid(): number | undefined
  /** SIGTERM, then wait for exit (SIGKILL after 5 s). Idempotent. Keeps the dir for `start()`. */
  stop(): Promise<void>
  /** SIGKILL and wait for exit: simulates a crash. */
  kill(): Promise<void>
  /** (Re)starts on the same port and dir with the same args, and waits until PING answers. */
  start(): Promise<void>
  /** Runs `redis-cli -p PORT ...args` and returns its trimmed stdout. */
  cli(...args: string[]): Promise<string>
}

/** A master, its replicas and the sentinels watching it. */
export interface SentinelGroup {
  /** The master name the sentinels monitor: `mymaster`. */
  name: string
  /** The master at start (after a failover it may be a replica or dead). */
  master: RedisServer
  replicas: RedisServer[]
  sentinels: RedisServer[]
  sentinelAddrs: { host: string; port: number }[]
  /** The master address according to the first sentinel that answers. */
  currentMaster(): Promise<{ host: string; port: number }>
  /** Stops every process of the group and removes their dirs. */
  stop(): Promise<void>
}

/** A Redis Cluster whose slots are all assigned and whose replicas are attached. */
export interface RedisCluster {
  masters: RedisServer[]
  replicas: RedisServer[]
  nodes: RedisServer[]
  startupNodes: { host: string; port: number }[]
  /** Stops every node and removes their dirs. */
  stop(): Promise<void>
}

const HOST = '127.0.0.1' as const
const START_TIMEOUT_MS = 10_000
const STOP_GRACE_MS = 5_000

/** The redis-server and redis-cli binaries to use (env REDIS_SERVER / REDIS_CLI). */
export function redisBinaries(): { server: string; cli: string } {
  return {
    server: process.env.REDIS_SERVER ?? 'redis-server',
    cli: process.env.REDIS_CLI ?? 'redis-cli',
  }
}

/** A port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}

/** True when `port` can be bound on 127.0.0.1 right now. */
async function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/** A free port whose cluster bus port (port + 10000) is free too; Redis refuses ports > 55535. */
async function freeClusterPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort()
    if (port <= 55535 && (await canBind(port + 10000))) return port
  }
  throw new Error('could not find a free port pair for a cluster node')
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Everything this module started, for `stopAll()` and the exit hook. */
const liveServers = new Set<ServerProcess>()
const ownedDirs = new Set<string>()

process.on('exit', () => {
  // Synchronous last resort: a test file that forgot stopAll() must not leave servers behind.
  for (const server of liveServers) server.killSync()
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true })
})

/** Encodes a command in RESP so a password with spaces survives. */
function resp(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')
}

/**
 * One PING over a raw socket (no redis-cli spawn, so polling is cheap).
 * Resolves true on +PONG, false on anything else (refused, LOADING, timeout).
 */
function pingOnce(port: number, password: string | undefined, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let buffer = ''
    const socket = net.connect({ host: HOST, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => {
      socket.write((password ? resp(['AUTH', password]) : '') + resp(['PING']))
    })
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1')
      if (buffer.includes('+PONG\r\n')) done(true)
      else if (buffer.includes('-')) done(false)
    })
  })
}

/** Polls `check` until it returns true, or throws `describe()` after `timeoutMs`. */
async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<string> | string,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(await describe())
    await sleep(intervalMs)
  }
}

interface ProcessSpec {
  port: number
  dir: string
  /** Arguments before the generated ones (a config file path for sentinels). */
  leading: string[]
  args: string[]
  password: string | undefined
}

/** Thrown when the process exited before it answered PING (e.g. the port was taken). */
class EarlyExitError extends Error {}

/** One redis-server process that can be stopped, killed and started again. */
class ServerProcess implements RedisServer {
  readonly host = HOST
  readonly port: number
  readonly url: string
  readonly dir: string
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private output = ''

  constructor(private readonly spec: ProcessSpec) {
    this.port = spec.port
    this.dir = spec.dir
    this.url = `redis://${HOST}:${spec.port}`
  }

  pid(): number | undefined {
    return this.child?.pid
  }

  private get logFile(): string {
    return path.join(this.dir, 'redis.log')
  }

  async start(): Promise<void> {
    if (this.child) return
    const { server } = redisBinaries()
    const args = [
      ...this.spec.leading,
      '--port',
      String(this.port),
      '--bind',
      HOST,
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      '--logfile',
      this.logFile,
      ...this.spec.args,
    ]
    const child = spawn(server, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    liveServers.add(this)
    this.output = ''
    // Keep the tail of stdout/stderr: config errors are printed there before the log opens.
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    let exitedEarly = false
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        exitedEarly = true
        if (this.child === child) this.child = undefined
        liveServers.delete(this)
        resolve()
      })
      child.once('error', (error) => {
        this.output += `\nspawn error: ${error.message}`
      })
    })
    const deadline = Date.now() + START_TIMEOUT_MS
    for (;;) {
      if (exitedEarly) {
        throw new EarlyExitError(
          `redis-server on port ${this.port} exited while starting\n${await this.logTail()}`,
        )
      }
      if (await pingOnce(this.port, this.spec.password, 250)) return
      if (Date.now() > deadline) {
        const tail = await this.logTail()
        await this.kill()
        throw new Error(
          `redis-server on port ${this.port} did not answer PING within ${START_TIMEOUT_MS} ms\n${tail}`,
        )
      }
      await sleep(25)
    }
  }

  /** The last lines of the server log and of its stdout/stderr, for error messages. */
  async logTail(): Promise<string> {
    const log = await readFile(this.logFile, 'utf8').catch(() => '')
    const lines = (log + '\n' + this.output).trim().split('\n')
    return lines.slice(-25).join('\n')
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    await this.exited
    clearTimeout(timer)
  }

  async kill(): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill('SIGKILL')
    await this.exited
  }

  /** For the exit hook, which cannot wait. */
  killSync(): void {
    try {
      this.child?.kill('SIGKILL')
    } catch {
      // already gone
    }
  }

  async cli(...args: string[]): Promise<string> {
    const { cli } = redisBinaries()
    const env = { ...process.env }
    // REDISCLI_AUTH keeps the password off the command line and avoids the -a warning.
    if (this.spec.password) env.REDISCLI_AUTH = this.spec.password
    else delete env.REDISCLI_AUTH
    return new Promise((resolve, reject) => {
      execFile(
        cli,
        ['-h', HOST, '-p', String(this.port), ...args],
        { env, timeout: 20_000 },
        (error, stdout, stderr) => {
          if (error)
            reject(
              new Error(
                `redis-cli -p ${this.port} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`,
              ),
            )
          else resolve(stdout.trim())
        },
      )
    })
  }

  /** Removes the dir; only once the process is gone. */
  async removeDir(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
    ownedDirs.delete(this.dir)
  }
}

const allServers = new Set<ServerProcess>()

async function makeDir(kind: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `hrs-${kind}-`))
  ownedDirs.add(dir)
  return dir
}

/**
 * Starts a process on a fresh free port, retrying with another port when the start fails
 * because the process exited (typically the port was taken between probe and bind).
 */
async function launch(
  kind: string,
  build: (port: number, dir: string) => Promise<Omit<ProcessSpec, 'port' | 'dir'>>,
  pickPort: () => Promise<number> = freePort,
): Promise<ServerProcess> {
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await pickPort()
    const dir = await makeDir(kind)
    const server = new ServerProcess({ port, dir, ...(await build(port, dir)) })
    allServers.add(server)
    try {
      await server.start()
      return server
    } catch (error) {
      lastError = error
      allServers.delete(server)
      await server.kill()
      await server.removeDir()
      if (!(error instanceof EarlyExitError)) break
    }
  }
  throw lastError
}

const PERSISTENCE_ARGS: Record<'none' | 'aof-everysec' | 'aof-always' | 'rdb', string[]> = {
  none: ['--save', '', '--appendonly', 'no'],
  'aof-everysec': ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'],
  'aof-always': ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
  // one argument per value: Redis 6 reads '--save "1 1"' as one value, refuses it and runs without RDB
  rdb: ['--save', '1', '1', '--appendonly', 'no'],
}

/** Starts a standalone redis-server; no persistence unless asked for. */
export async function startRedis(
  opts: {
    args?: string[]
    persistence?: 'none' | 'aof-everysec' | 'aof-always' | 'rdb'
    password?: string
  } = {},
): Promise<RedisServer> {
  const password = opts.password
  return launch('redis', async () => ({
    leading: [],
    args: [
      ...PERSISTENCE_ARGS[opts.persistence ?? 'none'],
      ...(password ? ['--requirepass', password] : []),
      ...(opts.args ?? []),
    ],
    password,
  }))
}

/** Parses `INFO`-style `key:value` lines. */
function parseInfo(text: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0) map.set(line.slice(0, i), line.slice(i + 1).trim())
  }
  return map
}

/** Parses redis-cli's one-value-per-line rendering of a flat field/value array. */
function parsePairs(text: string): Map<string, string> {
  const lines = text.split(/\r?\n/)
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < lines.length; i += 2) map.set(lines[i]!, lines[i + 1]!)
  return map
}

/** Replication args that make a replica sync within milliseconds (all exist in Redis 6.0). */
const FAST_SYNC_ARGS = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0']

async function waitReplicaUp(replica: RedisServer): Promise<void> {
  await waitFor(
    async () =>
      parseInfo(await replica.cli('INFO', 'replication')).get('master_link_status') === 'up',
    START_TIMEOUT_MS,
    async () =>
      `replica ${replica.port} did not link to its master: ${await replica.cli('INFO', 'replication').catch(String)}`,
  )
}

/**
 * Starts a master, its replicas and a quorum of sentinels, and waits until every sentinel
 * knows every replica and every other sentinel, so that a failover can really happen.
 */
export async function startSentinelGroup(
  opts: {
    replicas?: number
    sentinels?: number
    downAfterMs?: number
    failoverTimeoutMs?: number
  } = {},
): Promise<SentinelGroup> {
  const name = 'mymaster'
  const replicaCount = opts.replicas ?? 1
  const sentinelCount = opts.sentinels ?? 3
  const quorum = Math.floor(sentinelCount / 2) + 1
  const started: ServerProcess[] = []
  try {
    const master = (await startRedis({ args: FAST_SYNC_ARGS })) as ServerProcess
    started.push(master)
    const replicas = await Promise.all(
      Array.from({ length: replicaCount }, () =>
        startRedis({ args: [...FAST_SYNC_ARGS, '--replicaof', HOST, String(master.port)] }),
      ),
    )
    started.push(...(replicas as ServerProcess[]))
    await Promise.all(replicas.map(waitReplicaUp))

    const sentinels = await Promise.all(
      Array.from({ length: sentinelCount }, () =>
        launch('sentinel', async (_port, dir) => {
          // Sentinel rewrites its config file, so it must be writable and its own.
          const conf = path.join(dir, 'sentinel.conf')
          await writeFile(
            conf,
            [
              `sentinel monitor ${name} ${HOST} ${master.port} ${quorum}`,
              `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
              `sentinel failover-timeout ${name} ${opts.failoverTimeoutMs ?? 5000}`,
              `sentinel parallel-syncs ${name} 1`,
              '',
            ].join('\n'),
          )
          return { leading: [conf, '--sentinel'], args: [], password: undefined }
        }),
      ),
    )
    started.push(...sentinels)

    await Promise.all(
      sentinels.map((sentinel) =>
        waitFor(
          async () => {
            const info = parsePairs(await sentinel.cli('SENTINEL', 'master', name))
            // 'master' alone: a sentinel that still sees it down (s_down, disconnected) is not ready
            return (
              info.get('flags') === 'master' &&
              Number(info.get('num-slaves')) === replicaCount &&
              Number(info.get('num-other-sentinels')) === sentinelCount - 1
            )
          },
          15_000,
          async () =>
            `sentinel ${sentinel.port} did not discover the group: ${await sentinel.cli('SENTINEL', 'master', name).catch(String)}`,
          100,
        ),
      ),
    )

    return {
      name,
      master,
      replicas,
      sentinels,
      sentinelAddrs: sentinels.map((s) => ({ host: HOST, port: s.port })),
      async currentMaster() {
        let lastError: unknown = new Error('no sentinel running')
        for (const sentinel of sentinels) {
          if (!sentinel.pid()) continue
          try {
            const [host, port] = (
              await sentinel.cli('SENTINEL', 'get-master-addr-by-name', name)
            ).split(/\r?\n/)
            if (host && port) return { host, port: Number(port) }
          } catch (error) {
            lastError = error
          }
        }
        throw lastError
      },
      stop: () => stopServers(started),
    }
  } catch (error) {
    await stopServers(started)
    throw error
  }
}

/** Stops the given servers (sentinels first would not matter: all stop in parallel) and removes their dirs. */
async function stopServers(servers: ServerProcess[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()))
  await Promise.all(servers.map((s) => s.removeDir()))
  for (const s of servers) allServers.delete(s)
}

/** One line of CLUSTER NODES. */
interface ClusterNodeLine {
  id: string
  port: number
  flags: string[]
  masterId: string
  /** Slot ranges it serves (a master that serves none is a replica not yet reported as one). */
  slotRanges: number
}

function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .split(/\r?\n/)
    .filter(Boolean)
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '', ...rest] = line.split(' ')
      // address is host:port@busport (Redis 4+), optionally ,hostname (7.0)
      const port = Number(address.split('@')[0]!.split(':').pop())
      // after ping-sent, pong-recv, config-epoch and link-state come the slot ranges
      return { id, port, flags: flags.split(','), masterId, slotRanges: rest.slice(4).length }
    })
}

/**
 * Starts `masters * (1 + replicasPerMaster)` cluster nodes, creates the cluster with redis-cli
 * and waits until every node reports `cluster_state:ok` and every replica is attached.
 */
export async function startCluster(
  opts: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisCluster> {
  const masterCount = opts.masters ?? 3
  const perMaster = opts.replicasPerMaster ?? 1
  const total = masterCount * (1 + perMaster)
  const nodes: ServerProcess[] = []
  try {
    const args = [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(opts.nodeTimeoutMs ?? 1000),
      ...PERSISTENCE_ARGS.none,
      ...FAST_SYNC_ARGS,
    ]
    // Sequential port picks: parallel probes could hand the same port (or bus port) twice.
    for (let i = 0; i < total; i++) {
      nodes.push(
        await launch(
          'cluster',
          async () => ({ leading: [], args, password: undefined }),
          freeClusterPort,
        ),
      )
    }
    await nodes[0]!.cli(
      '--cluster',
      'create',
      ...nodes.map((n) => `${HOST}:${n.port}`),
      '--cluster-replicas',
      String(perMaster),
      '--cluster-yes',
    )
    await waitFor(
      async () =>
        (await Promise.all(nodes.map((n) => clusterNodeSettled(n, total, masterCount)))).every(
          Boolean,
        ),
      20_000,
      async () =>
        `cluster did not settle:\n${await nodes[0]!.cli('CLUSTER', 'NODES').catch(String)}`,
      100,
    )
    // Each node's own ROLE, not one node's gossip view, decides who is a master.
    const roles = await Promise.all(nodes.map(async (n) => (await n.cli('ROLE')).split('\n')[0]))
    const isMaster = (n: ServerProcess) => roles[nodes.indexOf(n)] === 'master'
    return {
      masters: nodes.filter(isMaster),
      replicas: nodes.filter((n) => !isMaster(n)),
      nodes,
      startupNodes: nodes.map((n) => ({ host: HOST, port: n.port })),
      stop: () => stopServers(nodes),
    }
  } catch (error) {
    await stopServers(nodes)
    throw error
  }
}

/**
 * True when `node` sees a healthy cluster of `total` nodes with exactly `masterCount` masters
 * (a replica that gossip has not yet reported as one still shows as an empty master), and is
 * attached if it is a replica.
 */
async function clusterNodeSettled(
  node: RedisServer,
  total: number,
  masterCount: number,
): Promise<boolean> {
  const info = parseInfo(await node.cli('CLUSTER', 'INFO'))
  if (info.get('cluster_state') !== 'ok') return false
  if (info.get('cluster_slots_assigned') !== '16384' || info.get('cluster_slots_ok') !== '16384')
    return false
  if (Number(info.get('cluster_known_nodes')) !== total) return false
  const view = parseClusterNodes(await node.cli('CLUSTER', 'NODES'))
  const masters = view.filter((v) => v.flags.includes('master'))
  const serving = new Set(masters.filter((v) => v.slotRanges > 0).map((v) => v.id))
  if (masters.length !== masterCount || serving.size !== masterCount) return false
  // Every replica is reported as one, attached to a master that serves slots, in this view.
  const replicas = view.filter((v) => v.flags.includes('slave'))
  if (replicas.length !== total - masterCount) return false
  if (!replicas.every((v) => serving.has(v.masterId))) return false
  const me = view.find((v) => v.flags.includes('myself'))
  if (me?.flags.includes('slave')) {
    return parseInfo(await node.cli('INFO', 'replication')).get('master_link_status') === 'up'
  }
  return true
}

/** Stops every process this module started and removes every temp dir it made. */
export async function stopAll(): Promise<void> {
  const servers = [...allServers, ...liveServers]
  await Promise.all(servers.map((s) => s.stop()))
  await Promise.all(servers.map((s) => s.removeDir()))
  allServers.clear()
  await Promise.all([...ownedDirs].map((dir) => rm(dir, { recursive: true, force: true })))
  ownedDirs.clear()
}
