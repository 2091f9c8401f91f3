import type { Cluster, Redis } from 'ioredis'
import { ioredisExec } from '../store/ioredis.js'
import { ALIAS_FIELD, parseKeyName, userIndexKeyName } from '../store/redis/layout.js'
import { parseInfo } from '../store/redis/info.js'
import { run } from '../store/redis/operation.js'
import { sweep as sweepOp } from '../store/redis/sweep.js'
import { nodeAddress, scanNodes } from './connect.js'
import { UsageError } from './output.js'

/** One server's state, from INFO. */
export interface NodeStats {
  address: string
  role: string | undefined
  replicas: number | undefined
  masterLinkStatus: string | undefined
  opsPerSecond: number | undefined
  usedMemory: string | undefined
  keys: number
}

export interface Stats {
  /** Session keys, rotation aliases excluded. */
  sessions: number
  anonymousSessions: number
  /**
   * Rotation aliases: the previous key of a rotated session during its grace window (a hash
   * holding only `$mv` and `$e`); not sessions, so not among `sessions` nor in the memory sample.
   */
  rotationAliases: number
  users: number
  memoryPerSession: { sampled: number; averageBytes: number | undefined }
  nodes: NodeStats[]
  slowlog: { node: string; id: number; at: string; micros: number; command: string }[]
}

const SAMPLE = 50

/**
 * Counts sessions, rotation aliases and users with SCAN (one HEXISTS pipeline per batch tells
 * aliases apart), samples MEMORY USAGE, reads INFO and SLOWLOG.
 */
export async function stats(client: Redis | Cluster, prefix: string): Promise<Stats> {
  let sessions = 0
  let anonymous = 0
  let aliases = 0
  let users = 0
  const sample: { node: Redis; key: string }[] = []
  const nodes: NodeStats[] = []
  const slowlog: Stats['slowlog'] = []
  for (const node of scanNodes(client)) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      const found: { key: string; anonymous: boolean }[] = []
      for (const key of keys) {
        const parsed = parseKeyName(prefix, key)
        if (parsed?.kind === 'index') users++
        if (parsed?.kind === 'session') found.push({ key, anonymous: parsed.key.uid === undefined })
      }
      if (found.length === 0) continue
      const pipeline = node.pipeline()
      for (const { key } of found) pipeline.hexists(key, ALIAS_FIELD)
      const replies = (await pipeline.exec()) ?? []
      found.forEach(({ key, anonymous: anon }, i) => {
        // an error (WRONGTYPE: not a hash) is counted as before, as a (poisoned) session
        const [err, isAlias] = replies[i] ?? []
        if (!err && isAlias === 1) return void aliases++
        sessions++
        if (anon) anonymous++
        if (sample.length < SAMPLE) sample.push({ node, key })
      })
    } while (cursor !== '0')
    nodes.push(await nodeStats(node))
    slowlog.push(...(await slowEntries(node, prefix)))
  }
  const sizes = await Promise.all(
    sample.map(({ node, key }) => node.call('MEMORY', 'USAGE', key) as Promise<number | null>),
  )
  const measured = sizes.filter((n): n is number => typeof n === 'number')
  const averageBytes = measured.length
    ? Math.round(measured.reduce((a, b) => a + b, 0) / measured.length)
    : undefined
  return {
    sessions,
    anonymousSessions: anonymous,
    rotationAliases: aliases,
    users,
    memoryPerSession: { sampled: measured.length, averageBytes },
    nodes,
    slowlog,
  }
}

async function nodeStats(node: Redis): Promise<NodeStats> {
  const info = parseInfo(String(await node.info()))
  return {
    address: nodeAddress(node),
    role: info.get('role'),
    replicas: info.has('connected_slaves') ? Number(info.get('connected_slaves')) : undefined,
    masterLinkStatus: info.get('master_link_status'),
    opsPerSecond: info.has('instantaneous_ops_per_sec')
      ? Number(info.get('instantaneous_ops_per_sec'))
      : undefined,
    usedMemory: info.get('used_memory_human'),
    keys: await node.dbsize(),
  }
}

/** Recent slow commands that touched session keys (or ran the session scripts). */
async function slowEntries(node: Redis, prefix: string): Promise<Stats['slowlog']> {
  const entries = (await node.call('SLOWLOG', 'GET', '20')) as [number, number, number, string[]][]
  return entries
    .filter(([, , , args]) => {
      const name = String(args[0]).toLowerCase()
      return name === 'evalsha' || name === 'eval' || args.some((a) => String(a).startsWith(prefix))
    })
    .map(([id, at, micros, args]) => ({
      node: nodeAddress(node),
      id,
      at: new Date(at * 1000).toISOString(),
      micros,
      // never print values: the command name and the first key-looking argument only
      command: [
        args[0],
        ...args
          .slice(1)
          .filter((a) => String(a).startsWith(prefix))
          .slice(0, 1),
      ].join(' '),
    }))
}

/**
 * Sweeps user indexes, at most `maxKeys` index keys per run; resumable: returns the cursor to
 * pass next time ('' when done). The cursor names each server, so it survives a reordering.
 */
export async function sweep(
  client: Redis | Cluster,
  prefix: string,
  options: { cursor?: string; count: number; maxKeys: number; now: number },
): Promise<{ indexesScanned: number; membersRemoved: number; cursor: string }> {
  const cursors: Record<string, string> = options.cursor ? decodeCursor(options.cursor) : {}
  let scanned = 0
  let removed = 0
  for (const node of scanNodes(client)) {
    if (scanned >= options.maxKeys) break
    const address = nodeAddress(node)
    let cursor = cursors[address] ?? '0'
    if (cursor === 'done') continue
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}{*}`, 'COUNT', options.count)
      cursor = next
      for (const key of keys) {
        const parsed = parseKeyName(prefix, key)
        if (parsed?.kind !== 'index' || key !== userIndexKeyName(prefix, parsed.uid)) continue
        scanned++
        removed += await run(ioredisExec(node), prefix, sweepOp, key, options.now)
      }
    } while (cursor !== '0' && scanned < options.maxKeys)
    cursors[address] = cursor === '0' ? 'done' : cursor
  }
  const finished = scanNodes(client).every((n) => cursors[nodeAddress(n)] === 'done')
  return {
    indexesScanned: scanned,
    membersRemoved: removed,
    cursor: finished ? '' : encodeCursor(cursors),
  }
}

function encodeCursor(cursors: Record<string, string>): string {
  return Buffer.from(JSON.stringify(cursors)).toString('base64url')
}

function decodeCursor(text: string): Record<string, string> {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown
    if (
      typeof value === 'object' &&
      value !== null &&
      Object.values(value).every((v) => typeof v === 'string')
    ) {
      return value as Record<string, string>
    }
  } catch {
    // fall through
  }
  throw new UsageError('--cursor is not a cursor printed by an earlier sweep')
}
