/**
 * What the scripts answer besides data, and the decoding every operation shares. A reply is
 * simple: nil, an integer, a flat array of strings (and nils), or one JSON text; it decodes the
 * same from RESP (ioredis) and from Upstash's REST JSON (automatic deserialization off).
 */
import { SessionLimitError, SessionRequiredError, StoreError } from '../../errors.js'
import type { CommitResult, MovedResult } from '../types.js'
import { PoisonedSessionError } from './codec.js'

/** Returned by `load`, `commit` and `rotate` for a key that cannot be a session we wrote. */
export const POISONED = -1
/** Returned by `create` and `rotate` when the new key already exists (nothing was written). */
export const EXISTS = -2
/** Returned by a per-user script whose acting session is not live (nothing was done). */
export const NOT_LIVE = -3
/** Returned when a write would take the session's data past `maxDataBytes` (nothing written). */
export const TOO_LARGE = -4

/**
 * A per-user script's reply, unless it says the acting session is not live ({@link NOT_LIVE},
 * bare or, from `userValue`, wrapped in a table).
 */
export function live(reply: unknown): unknown {
  if (reply === NOT_LIVE || (Array.isArray(reply) && reply.length === 1 && reply[0] === NOT_LIVE))
    throw new SessionRequiredError()
  return reply
}

/** What a poisoned entry is called, by the scripts' reply and by the plain read alike. */
export const NOT_A_SESSION = 'session entry is not a valid session hash'

/** Throws the typed error of a refusal every session script may answer with. */
export function refusals(reply: unknown, maxDataBytes?: number): void {
  if (reply === POISONED) throw new PoisonedSessionError(NOT_A_SESSION)
  if (reply === TOO_LARGE) throw new SessionLimitError(`session data exceeds ${maxDataBytes} bytes`)
  if (reply === EXISTS) throw new StoreError('session id collision: the key already exists')
}

/** Decodes a commit-shaped reply: nil (gone), moved, or `[expiresAt, extended]`. */
export function commitResult(
  reply: unknown,
  op: string,
  maxDataBytes?: number,
): CommitResult | MovedResult | null {
  if (reply === null || reply === undefined) return null
  refusals(reply, maxDataBytes)
  const [e, extended] = list(reply, op)
  if (e === 'moved') return { movedTo: str(extended) }
  return { expiresAt: integer(e, op), extended: Number(extended) === 1 }
}

/** An optional integer argument: '' when absent. */
export function optionalInt(n: number | undefined): string {
  return n === undefined ? '' : int(n)
}

/** An integer argument as Redis text (epoch milliseconds keep every digit). */
export function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new StoreError('store argument is not a safe integer')
  return String(n)
}

export function list(reply: unknown, op: string): unknown[] {
  if (!Array.isArray(reply)) throw new StoreError(`unexpected reply from the ${op} script`)
  return reply
}

/** A flat array sent as one JSON text (cjson: far cheaper for a client than many elements). */
export function jsonList(reply: unknown, op: string): unknown[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(str(reply))
  } catch {
    throw new StoreError(`unexpected reply from the ${op} script`)
  }
  return list(parsed, op)
}

export function str(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  if (v instanceof Uint8Array) return new TextDecoder().decode(v)
  throw new PoisonedSessionError('session entry holds a value that is not a string')
}

export function integer(v: unknown, op: string): number {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,16}$/.test(v) ? Number(v) : NaN
  if (!Number.isSafeInteger(n)) throw new StoreError(`unexpected reply from the ${op} script`)
  return n
}

/** A missing value: nil from RESP, null or false from REST. */
export function isNil(v: unknown): boolean {
  return v === null || v === undefined || v === false
}
