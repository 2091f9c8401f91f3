import { createReadStream, createWriteStream, fchmodSync, openSync } from 'node:fs'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import type { Cluster, Redis } from 'ioredis'
import { ioredisExec } from '../store/ioredis.js'
import { decodeSession } from '../store/redis/codec.js'
import { ALIAS_FIELD, META_FIELDS, parseKeyName, sessionKeyName } from '../store/redis/layout.js'
import { run } from '../store/redis/operation.js'
import { restore as restoreOp } from '../store/redis/restore.js'
import { scanNodes } from './connect.js'
import {
  checkItemLine,
  itemKey,
  itemLine,
  restoreItem,
  type ItemKey,
  type ItemLine,
} from './items.js'
import { CliError, progress } from './output.js'

/**
 * Backup and restore of sessions as JSON lines, one session a line:
 * `{"v":1,"key":"sess:{alice}:<id>","id":"<id>","uid":"alice","pttl":86399000,"at":<ms>,"fields":{...}}`
 * - `key`: the Redis key; `id`/`uid`: its parts (`uid` only for authenticated sessions);
 * - `pttl`: remaining TTL in milliseconds when read, `at`: when it was read (epoch ms), so an
 *   import can subtract the time spent in transit;
 * - `fields`: every hash field as stored (data fields and `$`-metadata), byte for byte.
 * Session lines have no `type` (files written before per-user items were exported still import;
 * `"type":"session"` is accepted too). Per-user items (TOTP secrets, claims, hit counters) follow
 * as their own lines, `"type":"item"`: see {@link ItemLine}.
 * User indexes are not exported: an import rebuilds them from the sessions. Rotation aliases
 * (see {@link isRotationAlias}) are not exported either, and an import skips them.
 */
export interface BackupLine {
  v: 1
  /** Never written; accepted on import. */
  type?: 'session'
  key: string
  id: string
  uid?: string
  pttl: number
  at: number
  fields: Record<string, string>
}

const SCAN_COUNT = 500

/**
 * Whether a session hash's fields are a rotation alias: what `rotate` leaves at the previous key
 * for the grace window, only `$mv` (the id the session moved to) and `$e` (end of the window).
 * The session itself lives under the new id; the alias is neither a session nor worth restoring
 * (its window is seconds long and its target is exported under its own key). A hash holding
 * `$mv` is an alias whatever else it holds, as the scripts read it.
 */
export function isRotationAlias(fields: Record<string, string>): boolean {
  return Object.hasOwn(fields, ALIAS_FIELD)
}

/** What an export did. */
export interface ExportResult {
  exported: number
  items: number
  /** Keys that vanished meanwhile, had no TTL or were not a hash / not text: not ours. */
  skipped: number
  /** Rotation aliases seen and left out (not among `skipped`). */
  aliases: number
  seconds: number
}

/**
 * Opens an export file for the owner alone (0600: it holds session data and sealed TOTP
 * secrets), refusing an existing file unless `force` (then its mode is narrowed to 0600 too).
 */
export function openExportFile(path: string, force: boolean): Writable {
  let fd: number
  try {
    fd = openSync(path, force ? 'w' : 'wx', 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new CliError(`${path} exists: pass --force to overwrite it`)
    throw new CliError(`cannot write ${path} (${code})`)
  }
  fchmodSync(fd, 0o600) // an existing file keeps its mode on open; the umask only narrows
  return createWriteStream('', { fd })
}

/**
 * Writes every session and every per-user item to `out` (SCAN on every master, never KEYS; a
 * batch at a time, one pipeline per batch). Rotation aliases are counted and left out. A file
 * is created 0600 and never overwritten without `force`.
 */
export async function exportSessions(
  client: Redis | Cluster,
  prefix: string,
  outPath: string | undefined,
  force = false,
): Promise<ExportResult> {
  const out: Writable = outPath ? openExportFile(outPath, force) : process.stdout
  const started = Date.now()
  const bar = progress()
  let exported = 0
  let items = 0
  let skipped = 0
  let aliases = 0
  for (const node of scanNodes(client)) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', SCAN_COUNT)
      cursor = next
      const sessions: { key: string; id: string; uid?: string }[] = []
      const found: ItemKey[] = []
      for (const key of keys) {
        const parsed = parseKeyName(prefix, key)
        if (parsed?.kind === 'session') sessions.push({ key, ...parsed.key })
        const item = parsed?.kind === 'item' ? itemKey(prefix, key) : null
        if (item) found.push(item)
      }
      if (sessions.length === 0 && found.length === 0) continue
      const pipeline = node.pipeline()
      for (const s of sessions) pipeline.hgetall(s.key).pttl(s.key)
      // as bytes: a value is copied only if it is text (see itemLine)
      for (const k of found) pipeline.getBuffer(k.key).pttl(k.key)
      const replies = (await pipeline.exec()) ?? []
      const at = Date.now()
      let chunk = ''
      sessions.forEach((s, i) => {
        const [hErr, fields] = replies[2 * i] ?? []
        const [tErr, pttl] = replies[2 * i + 1] ?? []
        // vanished meanwhile (pttl -2), no TTL (-1: not a session we wrote), or not a hash
        if (hErr || tErr || typeof pttl !== 'number' || pttl <= 0) return void skipped++
        // a rotation alias (grace window of a rotated session): the session is under its new key
        if (isRotationAlias(fields as Record<string, string>)) return void aliases++
        const line: BackupLine = {
          v: 1,
          key: s.key,
          id: s.id,
          ...(s.uid !== undefined && { uid: s.uid }),
          pttl,
          at,
          fields: fields as Record<string, string>,
        }
        chunk += JSON.stringify(line) + '\n'
        exported++
      })
      const base = 2 * sessions.length
      found.forEach((k, i) => {
        const [gErr, value] = replies[base + 2 * i] ?? []
        const [tErr, pttl] = replies[base + 2 * i + 1] ?? []
        // WRONGTYPE (not a string), vanished, or not text: not an item we wrote
        const line =
          gErr || tErr || typeof pttl !== 'number'
            ? null
            : itemLine(k, value as Buffer | null, pttl, at)
        if (!line) return void skipped++
        chunk += JSON.stringify(line) + '\n'
        items++
      })
      if (chunk && !out.write(chunk)) await once(out, 'drain')
      bar.update(`exported ${exported} sessions, ${items} user items`)
    } while (cursor !== '0')
  }
  bar.done()
  if (outPath) {
    out.end()
    await once(out, 'finish')
  }
  return { exported, items, skipped, aliases, seconds: (Date.now() - started) / 1000 }
}

export interface ImportOptions {
  inPath: string | undefined
  onError: 'abort' | 'skip'
  replace: boolean
}

/** What an import did; `imported` and `skipped` count sessions and items together. */
export interface ImportResult {
  imported: number
  skipped: number
  /** The per-user items among `imported` / `skipped`. */
  items: { imported: number; skipped: number }
  /**
   * Rotation alias lines (written by exports before aliases were left out) skipped: not errors,
   * not among `skipped`.
   */
  aliases: number
  errors: string[]
  seconds: number
}

/**
 * Reads JSON lines and restores each session with its remaining TTL (minus the time since it
 * was exported) and its index entry, and each per-user item with its remaining TTL (or none).
 * Existing keys are kept unless `replace`. A bad line is reported with its number; `abort`
 * stops before any later line is written, `skip` goes on.
 */
export async function importSessions(
  client: Redis | Cluster,
  prefix: string,
  options: ImportOptions,
): Promise<ImportResult> {
  const started = Date.now()
  const input = options.inPath ? createReadStream(options.inPath) : process.stdin
  const lines = createInterface({ input, crlfDelay: Infinity })
  const bar = progress()
  const errors: string[] = []
  const items = { imported: 0, skipped: 0 }
  let aliases = 0
  let imported = 0
  let skipped = 0
  let lineNo = 0
  const exec = ioredisExec(client)
  const inFlight = new Set<Promise<void>>()
  const track = (n: number, work: Promise<void>) => {
    const p = work
      .catch((err: unknown) => {
        errors.push(`line ${n}: ${String((err as Error).message).split('\n')[0]}`)
      })
      .finally(() => inFlight.delete(p))
    inFlight.add(p)
  }
  const restore = (line: BackupLine, n: number) => {
    const pttl = line.pttl - Math.max(0, Date.now() - line.at)
    if (pttl <= 0) return void skipped++ // expired in transit
    const { key, id, uid, fields } = line
    const input = { key, id, uid, pttl, score: fields[META_FIELDS.expiresAt]!, fields }
    track(
      n,
      run(exec, prefix, restoreOp, { ...input, replace: options.replace }).then((written) => {
        if (written) imported++
        else skipped++ // already there, kept
      }),
    )
  }
  const restoreItemLine = (line: ItemLine, n: number) => {
    track(
      n,
      restoreItem(client, line, options.replace, Date.now()).then((outcome) => {
        // skipped: expired in transit, or already there and kept
        const counter = outcome === 'written' ? 'imported' : 'skipped'
        items[counter]++
        if (counter === 'imported') imported++
        else skipped++
      }),
    )
  }
  for await (const text of lines) {
    lineNo++
    if (text.trim() === '') continue
    const problem = checkLine(text, prefix)
    if (typeof problem === 'string') {
      errors.push(`line ${lineNo}: ${problem}`)
      if (options.onError === 'abort') break
      continue
    }
    if (problem.type === 'alias') {
      aliases++ // the session it points to has its own line
      continue
    }
    if (problem.type === 'item') restoreItemLine(problem, lineNo)
    else restore(problem, lineNo)
    if (inFlight.size >= 64) await Promise.race(inFlight)
    bar.update(`imported ${imported} (${items.imported} user items)`)
  }
  await Promise.all(inFlight)
  lines.close()
  bar.done()
  return { imported, skipped, items, aliases, errors, seconds: (Date.now() - started) / 1000 }
}

/**
 * A session line whose fields are a rotation alias (`$mv`), from an export written before
 * aliases were left out: well-formed, skipped on import.
 */
export interface AliasLine {
  type: 'alias'
  key: string
  /** The id the session moved to (its own line, if it was exported). */
  movedTo: string
}

/**
 * Parses and checks one line: a session line (no `type`, or `"type":"session"`; an
 * {@link AliasLine} when its fields are a rotation alias) or a per-user item line
 * (`"type":"item"`). Returns the line, or a description of what is wrong.
 */
export function checkLine(
  text: string,
  prefix: string,
): BackupLine | ItemLine | AliasLine | string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return 'not JSON'
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'not a JSON object'
  const record = value as Record<string, unknown>
  if (record.v !== 1) return 'unknown format version (expected "v": 1)'
  if (record.type === 'item') return checkItemLine(record, prefix)
  if (record.type !== undefined && record.type !== 'session')
    return 'unknown line "type" (expected "session" or "item")'
  return checkSessionLine(record, prefix)
}

/** Checks a session line (already JSON, version 1). */
function checkSessionLine(
  value: Record<string, unknown>,
  prefix: string,
): BackupLine | AliasLine | string {
  const line = value as Partial<BackupLine>
  if (typeof line.key !== 'string' || typeof line.id !== 'string')
    return '"key" and "id" must be strings'
  if (line.uid !== undefined && typeof line.uid !== 'string') return '"uid" must be a string'
  const expected = sessionKeyName(prefix, { id: line.id, uid: line.uid })
  if (line.key !== expected || parseKeyName(prefix, line.key)?.kind !== 'session') {
    return `"key" does not match the session layout for this id and uid under prefix "${prefix}"`
  }
  if (!Number.isSafeInteger(line.pttl) || !Number.isSafeInteger(line.at))
    return '"pttl" and "at" must be integers'
  const fields = line.fields
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    return '"fields" must be an object'
  if (!Object.values(fields).every((v) => typeof v === 'string'))
    return 'every field value must be a string'
  // An alias has no session metadata (no $c, $a, $u): recognised before the session checks.
  if (isRotationAlias(fields as Record<string, string>)) {
    return { type: 'alias', key: line.key, movedTo: (fields as Record<string, string>).$mv! }
  }
  try {
    const { meta } = decodeSession(fields as Record<string, string>)
    if (meta.uid !== line.uid) return '"uid" does not match the session\'s $u field'
  } catch (err) {
    return `not a valid session: ${(err as Error).message}`
  }
  return line as BackupLine
}

/** Fails the command when the import had errors and was asked to abort. */
export function importExit(errors: string[], onError: 'abort' | 'skip'): void {
  if (errors.length > 0 && onError === 'abort') throw new CliError(`${errors[0]} (import aborted)`)
}
