/**
 * Turns ioredis replies into the JSON text the Upstash REST API answers with.
 *
 * The client reads bulk and status strings as Buffers (reply encoding null, so bytes are never
 * lost on the way) and integers as decimal strings (`stringNumbers`: a JavaScript number holds
 * 53 bits, Redis integers 64). So the JSON is written here, not by `JSON.stringify` of values:
 * an integer is written as its digits, exactly as Redis sent them (`{"result":9223372036854775807}`).
 *
 * - Without `Upstash-Encoding: base64`: bulk and status strings as UTF-8 text.
 * - With it: every string at every depth of nested arrays as base64 of its exact bytes, except a
 *   top-level `OK` (Upstash's documented exception, which @upstash/redis special-cases).
 *   Integers stay numbers, nil stays null, error texts stay plain.
 */

/** How one command ended, as far as the encoder cares. */
export type EncodableOutcome = { ok: true; value: unknown } | { ok: false; error: string }

/** Whether the request asked for base64 (`Upstash-Encoding: base64`, any case). */
export function wantsBase64(header: string | undefined | null): boolean {
  return header?.trim().toLowerCase() === 'base64'
}

/** A Redis integer as `stringNumbers` delivers it, and valid JSON number text as it stands. */
const INTEGER = /^-?(?:0|[1-9]\d*)$/

function isOk(value: Buffer): boolean {
  return value.length === 2 && value[0] === 0x4f && value[1] === 0x4b
}

function stringJson(text: string, base64: boolean): string {
  return base64 ? `"${Buffer.from(text, 'utf8').toString('base64')}"` : JSON.stringify(text)
}

function valueJson(value: unknown, base64: boolean, topLevel: boolean): string {
  if (value === null || value === undefined) return 'null'
  if (Buffer.isBuffer(value)) {
    if (!base64) return JSON.stringify(value.toString('utf8'))
    return topLevel && isOk(value) ? '"OK"' : `"${value.toString('base64')}"`
  }
  if (typeof value === 'string') {
    // integer replies; any other string (none in RESP2) is text
    if (INTEGER.test(value)) return value
    return topLevel && value === 'OK' ? '"OK"' : stringJson(value, base64)
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ','
      out += valueJson(value[i], base64, false)
    }
    return out + ']'
  }
  // Nested error replies (a Lua script may return `redis.error_reply` inside a table) have no
  // JSON form in Upstash's protocol: rendered as their error text.
  if (value instanceof Error) return JSON.stringify(value.message)
  // RESP2 replies have no other types; anything else is rendered as text rather than lost.
  return stringJson(String(value), base64)
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

/** The body of `POST /` and the path form: `{"result":...}`. */
export function resultJson(value: unknown, base64: boolean): string {
  return `{"result":${valueJson(value, base64, true)}}`
}

/** The body of `/pipeline` and `/multi-exec`: `[{"result":...},{"error":"..."}]`. */
export function entriesJson(outcomes: readonly EncodableOutcome[], base64: boolean): string {
  let out = '['
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i]!
    if (i > 0) out += ','
    out += o.ok ? resultJson(o.value, base64) : `{"error":${JSON.stringify(o.error)}}`
  }
  return out + ']'
}
