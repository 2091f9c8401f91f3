/**
 * Turns ioredis replies (read as Buffers, so bytes are never lost on the way) into the JSON the
 * Upstash REST API answers with.
 *
 * - Without `Upstash-Encoding: base64`: bulk and status strings as UTF-8 text.
 * - With it: every string at every depth of nested arrays as base64 of its exact bytes, except a
 *   top-level `OK` (Upstash's documented exception, which @upstash/redis special-cases).
 *   Integers stay numbers, nil stays null, error texts stay plain.
 */

/** One reply entry of `/pipeline` and `/multi-exec`, and the body of `/`. */
export type ReplyEntry = { result: unknown } | { error: string }

/** Whether the request asked for base64 (`Upstash-Encoding: base64`, any case). */
export function wantsBase64(header: string | undefined | null): boolean {
  return header?.trim().toLowerCase() === 'base64'
}

function encodeValue(value: unknown, base64: boolean, topLevel: boolean): unknown {
  if (value === null || value === undefined) return null
  if (Buffer.isBuffer(value)) {
    if (!base64) return value.toString('utf8')
    if (topLevel && value.length === 2 && value[0] === 0x4f && value[1] === 0x4b) return 'OK'
    return value.toString('base64')
  }
  if (typeof value === 'string') {
    if (!base64 || (topLevel && value === 'OK')) return value
    return Buffer.from(value, 'utf8').toString('base64')
  }
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (Array.isArray(value)) return value.map((item) => encodeValue(item, base64, false))
  if (value instanceof Error) return value.message
  // RESP2 replies have no other types; anything else is rendered as text rather than lost.
  return base64 ? Buffer.from(String(value), 'utf8').toString('base64') : String(value)
}

/** Bytes a reply holds (its strings; a few more per element for the encoding's punctuation). */
export function replyBytes(value: unknown): number {
  if (Buffer.isBuffer(value)) return value.length + 2
  if (typeof value === 'string') return Buffer.byteLength(value) + 2
  if (Array.isArray(value)) {
    let n = 2
    for (const item of value) n += replyBytes(item) + 1
    return n
  }
  return 8
}

/** The `result` of a reply, encoded as asked. */
export function encodeResult(value: unknown, base64: boolean): unknown {
  return encodeValue(value, base64, true)
}

/**
 * Nested error replies (a Lua script may return `redis.error_reply` inside a table) have no
 * JSON form in Upstash's protocol; they are rendered as their error text.
 */
export function encodeEntry(
  entry: { ok: true; value: unknown } | { ok: false; error: string },
  base64: boolean,
): ReplyEntry {
  return entry.ok ? { result: encodeResult(entry.value, base64) } : { error: entry.error }
}
