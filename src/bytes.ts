import { SessionLimitError } from './errors.js'
import { isDataField } from './store/types.js'

/** UTF-8 length of a JavaScript string, without encoding it (a surrogate pair counts 4). */
export function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x80) bytes += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1
  }
  return bytes
}

/** Bytes of a session's data as the size limit counts them: data field names plus values. */
export function dataBytes(fields: Record<string, string>): number {
  let total = 0
  for (const name of Object.keys(fields)) {
    if (isDataField(name)) total += utf8Length(name) + utf8Length(fields[name]!)
  }
  return total
}

/**
 * The size rule of every write, the same in the stores' scripts: `after` may not take the data
 * past `max` bytes, unless it does not grow data already over the limit (a SessionLimitError, 413).
 */
export function checkDataGrowth(
  before: Record<string, string>,
  after: Record<string, string>,
  max: number,
): void {
  const bytes = dataBytes(after)
  if (bytes > max && bytes > dataBytes(before))
    throw new SessionLimitError(`session data exceeds ${max} bytes`)
}

/**
 * Whether a string is well-formed UTF-16: no surrogate without its other half (not text, and no
 * store can encode it). `String.prototype.isWellFormed` (ES2024: Node 20, workerd, browsers).
 */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed()
}
