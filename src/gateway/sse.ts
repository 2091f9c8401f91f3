/**
 * The server-sent events of `POST /subscribe/...` and `/psubscribe/...`, as `@upstash/redis`'s
 * `subscribe()` / `psubscribe()` read them: one `data: ` line per event, its fields separated
 * by commas (`subscribe,<channel>,<count>`, `message,<channel>,<payload>`,
 * `pmessage,<pattern>,<channel>,<payload>`), strings as UTF-8 text (no base64, whatever
 * `Upstash-Encoding` says: the client decodes none).
 *
 * An event is one line, so nothing a publisher sends may contain a line break: a payload
 * `x\ndata: message,admin,...` would otherwise forge an event in every subscriber's stream.
 */

/** What a subscriber asked for: channels (`SUBSCRIBE`) or patterns (`PSUBSCRIBE`). */
export type SubscriptionKind = 'subscribe' | 'psubscribe'

const LINE_BREAK = /[\r\n]/

/** Whether `text` can be one field of an event (SSE ends a line at CR, LF or CRLF). */
export function fitsOneLine(text: string): boolean {
  return !LINE_BREAK.test(text)
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * A payload as one line that the client's deserialization turns back into the same value:
 * JSON keeps its value when its line breaks (insignificant whitespace there) become spaces;
 * other text becomes a JSON string, which the client parses back to the exact text.
 */
export function payloadLine(payload: string): string {
  if (fitsOneLine(payload)) return payload
  return isJson(payload) ? payload.replace(/[\r\n]/g, ' ') : JSON.stringify(payload)
}

/** `subscribe,<channel>,<count>` (or `psubscribe,...`, `unsubscribe,...`, `punsubscribe,...`). */
export function countEvent(type: string, name: string, count: number): string {
  return `${type},${name},${count}`
}

/** A message; null when its channel name has a line break (it cannot be framed). */
export function messageEvent(
  channel: string,
  payload: string,
  pattern: string | undefined,
): string | null {
  if (!fitsOneLine(channel)) return null
  const body = `${channel},${payloadLine(payload)}`
  return pattern === undefined ? `message,${body}` : `pmessage,${pattern},${body}`
}

/** The bytes of one event on the wire. */
export function frame(event: string): string {
  return `data: ${event}\n\n`
}

/** A comment line: ignored by clients, it keeps proxies from closing an idle stream. */
export const HEARTBEAT = ': keep-alive\n\n'
