import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import type { Cluster, Redis } from 'ioredis'
import { decodeSession } from '../store/codec.js'
import { parseKeyName, sessionKeyName, userIndexKeyName } from '../store/keys.js'
import { scanNodes } from './connect.js'
import { CliError, progress } from './output.js'

/**
 * Backup and restore of sessions as JSON lines, one session a line:
 * `{"v":1,"key":"sess:{alice}:<id>","id":"<id>","uid":"alice","pttl":86399000,"at":<ms>,"fields":{...}}`
 * - `key`: the Redis key; `id`/`uid`: its parts (`uid` only for authenticated sessions);
 * - `pttl`: remaining TTL in milliseconds when read, `at`: when it was read (epoch ms), so an
 *   import can subtract the time spent in transit;
 * - `fields`: every hash field as stored (data fields and `$`-metadata), byte for byte.
 * User indexes are not exported: an import rebuilds them from the sessions.
 */
export interface BackupLine {
  v: 1
  key: string
  id: string
  uid?: string
  pttl: number
  at: number
  fields: Record<string, string>
}

const SCAN_COUNT = 500

/** Writes every session to `out` (SCAN on every master, never KEYS; a batch at a time). */
export async function exportSessions(
  client: Redis | Cluster,
  prefix: string,
  outPath: string | undefined,
): Promise<{ exported: number; skipped: number; seconds: number }> {
  const out: Writable = outPath ? createWriteStream(outPath) : process.stdout
  const started = Date.now()
  const bar = progress()
  let exported = 0
  let skipped = 0
  for (const node of scanNodes(client)) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', SCAN_COUNT)
      cursor = next
      const sessions = keys.flatMap((key) => {
        const parsed = parseKeyName(prefix, key)
        return parsed?.kind === 'session' ? [{ key, ...parsed.key }] : []
      })
      if (sessions.length === 0) continue
      const pipeline = node.pipeline()
      for (const s of sessions) pipeline.hgetall(s.key).pttl(s.key)
      const replies = (await pipeline.exec()) ?? []
      const at = Date.now()
      let chunk = ''
      sessions.forEach((s, i) => {
        const [hErr, fields] = replies[2 * i] ?? []
        const [tErr, pttl] = replies[2 * i + 1] ?? []
        // vanished meanwhile (pttl -2), no TTL (-1: not a session we wrote), or not a hash
        if (hErr || tErr || typeof pttl !== 'number' || pttl <= 0) return void skipped++
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
      if (chunk && !out.write(chunk)) await once(out, 'drain')
      bar.update(`exported ${exported} sessions`)
    } while (cursor !== '0')
  }
  bar.done()
  if (outPath) {
    out.end()
    await once(out, 'finish')
  }
  return { exported, skipped, seconds: (Date.now() - started) / 1000 }
}

/** Restores one session if absent (or always, with replace) and adds it to its user's index. */
const RESTORE = `
-- KEYS: session, [index]. ARGV: replace ('1'|'0'), pttl, id, index score, field/value pairs.
if ARGV[1] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
local i = 5
while i <= #ARGV do
  local j = math.min(i + 199, #ARGV)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if KEYS[2] then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
end
return 1
`

export interface ImportOptions {
  inPath: string | undefined
  onError: 'abort' | 'skip'
  replace: boolean
}

/**
 * Reads JSON lines and restores each session with its remaining TTL (minus the time since it
 * was exported) and its index entry. A bad line is reported with its number; `abort` stops
 * before any later line is written, `skip` goes on.
 */
export async function importSessions(
  client: Redis | Cluster,
  prefix: string,
  options: ImportOptions,
): Promise<{ imported: number; skipped: number; errors: string[]; seconds: number }> {
  const started = Date.now()
  const input = options.inPath ? createReadStream(options.inPath) : process.stdin
  const lines = createInterface({ input, crlfDelay: Infinity })
  const bar = progress()
  const errors: string[] = []
  let imported = 0
  let skipped = 0
  let lineNo = 0
  const inFlight = new Set<Promise<void>>()
  const restore = (line: BackupLine, n: number) => {
    const keys = [line.key, ...(line.uid !== undefined ? [userIndexKeyName(prefix, line.uid)] : [])]
    const pttl = line.pttl - Math.max(0, Date.now() - line.at)
    if (pttl <= 0) return void skipped++ // expired in transit
    const args = [
      options.replace ? '1' : '0',
      String(pttl),
      line.id,
      line.fields.$e!,
      ...Object.entries(line.fields).flat(),
    ]
    const p = (client.eval(RESTORE, keys.length, ...keys, ...args) as Promise<number>)
      .then((written) => {
        if (written === 1) imported++
        else skipped++ // already there, kept
      })
      .catch((err: unknown) => {
        errors.push(`line ${n}: ${String((err as Error).message).split('\n')[0]}`)
      })
      .finally(() => inFlight.delete(p))
    inFlight.add(p)
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
    restore(problem, lineNo)
    if (inFlight.size >= 64) await Promise.race(inFlight)
    bar.update(`imported ${imported} sessions`)
  }
  await Promise.all(inFlight)
  lines.close()
  bar.done()
  return { imported, skipped, errors, seconds: (Date.now() - started) / 1000 }
}

/** Parses and checks one line; returns the session or a description of what is wrong. */
export function checkLine(text: string, prefix: string): BackupLine | string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return 'not JSON'
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'not a JSON object'
  const line = value as Partial<BackupLine>
  if (line.v !== 1) return 'unknown format version (expected "v": 1)'
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
