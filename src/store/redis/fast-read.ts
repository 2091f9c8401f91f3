/**
 * The common read without a script: when this process last saw the session's idle deadline far
 * enough ahead that no extension can be due, one `HGETALL` serves the read, and the checks the
 * load script makes are made here, on the same reply. Redis spends about an eighth of the time
 * on it (no Lua, no JSON encoding): 2.0 µs against 16.9 µs of commandstats time per read, medians
 * of four `npm run bench:capacity` runs on one machine.
 *
 * Why it is safe: a session's idle deadline (`$e`) only ever moves later while its key lives
 * (extension; destroy deletes the key, rotation leaves an alias hash), so a deadline seen
 * earlier is a lower bound of today's. If that bound is past `extendIfBefore`, the load script
 * would not extend either; anything else the script would refuse (a missing, destroyed, expired,
 * poisoned or aliased entry) is refused here the same way from the reply, and an entry found
 * expired goes to the script, which deletes it.
 */
import type { LoadOptions, LoadResult, MovedResult, SessionKey } from '../types.js'
import { decodeSession, PoisonedSessionError } from './codec.js'
import { ALIAS_FIELD, META_FIELDS, sessionKeys } from './layout.js'
import { NOT_A_SESSION } from './replies.js'

/** Reads a whole hash (`HGETALL`): a flat `[field, value, ...]` list; rejects on an error reply. */
export type HashRead = (key: string) => Promise<unknown>

/** How many sessions' last seen deadlines one store remembers. */
const REMEMBERED = 4096

/**
 * Last seen idle deadlines by session id, bounded (the oldest entry goes first). Only a hint:
 * a miss or a stale entry sends the read through the load script.
 */
export class DeadlineMemo {
  readonly #deadlines = new Map<string, number>()

  /** The deadline last seen for `id`, if remembered. */
  get(id: string): number | undefined {
    return this.#deadlines.get(id)
  }

  /** Remembers a deadline the store has just reported for `id`. */
  set(id: string, expiresAt: number): void {
    this.#deadlines.delete(id)
    this.#deadlines.set(id, expiresAt)
    if (this.#deadlines.size > REMEMBERED)
      this.#deadlines.delete(this.#deadlines.keys().next().value!)
  }

  forget(id: string): void {
    this.#deadlines.delete(id)
  }
}

/**
 * The plain reads of one store: {@link redisScriptStore} asks it first on every read and tells
 * it every idle deadline it reports. Only a store that passes one carries this module (the
 * Upstash store does not: a REST endpoint may serve reads from a replica), so edge bundles
 * leave it out.
 */
export interface PlainReader {
  /**
   * The read's answer from one `HGETALL`, or `script` when the load script must run: returned
   * at once, not as a promise, when no plain read is possible (an increment, a consume, a
   * deadline not seen or due), so those reads cost no extra await.
   */
  read(key: SessionKey, o: LoadOptions): Promise<PlainRead> | 'script'
  /** The idle deadline the store has just reported for a session, or undefined: forget it. */
  saw(id: string, deadline: number | undefined): void
}

/** A {@link PlainReader} over `read` for the keys under `prefix`. */
export function plainReader(read: HashRead, prefix: string): PlainReader {
  const deadlines = new DeadlineMemo()
  return {
    read(key, o) {
      if (!mayReadPlainly(deadlines, key.id, o)) return 'script'
      return readPlainly(read, sessionKeys(prefix, key)[0]!, o).then((plain) => {
        if (plain !== 'script' && !(plain && 'session' in plain)) deadlines.forget(key.id)
        return plain
      })
    },
    saw: (id, deadline) =>
      deadline === undefined ? deadlines.forget(id) : deadlines.set(id, deadline),
  }
}

/** Whether a plain read may skip the script: nothing to add or delete, no extension possible. */
export function mayReadPlainly(memo: DeadlineMemo, id: string, o: LoadOptions): boolean {
  if (o.increment || o.consume) return false
  const seen = memo.get(id)
  return seen !== undefined && seen > o.extendIfBefore
}

/**
 * What a plain read found: the load script's answer, or `script` when the script must decide
 * (an entry found expired, which the script deletes so it stays gone whatever clock reads it
 * next, or a deadline that is due).
 */
export type PlainRead = LoadResult | MovedResult | null | 'script'

/** Reads the hash at `key` and judges it as the load script would (see `prelude.ts`, classify). */
export async function readPlainly(read: HashRead, key: string, o: LoadOptions): Promise<PlainRead> {
  let flat: unknown
  try {
    flat = await read(key)
  } catch (error) {
    // a key of another type: the script answers POISONED for it
    if (/WRONGTYPE/.test(error instanceof Error ? error.message : String(error)))
      throw new PoisonedSessionError(NOT_A_SESSION)
    throw error
  }
  if (!Array.isArray(flat)) throw new PoisonedSessionError(NOT_A_SESSION)
  if (flat.length === 0) return null
  let eS: unknown, aS: unknown, movedTo: unknown
  for (let i = 0; i < flat.length; i += 2) {
    const field = flat[i]
    if (field === META_FIELDS.expiresAt) eS = flat[i + 1]
    else if (field === META_FIELDS.absoluteExpiresAt) aS = flat[i + 1]
    else if (field === ALIAS_FIELD) movedTo = flat[i + 1]
  }
  const e = strictInteger(eS)
  if (movedTo !== undefined)
    return e !== undefined && o.now < e ? { movedTo: String(movedTo) } : 'script'
  const a = strictInteger(aS)
  if (e === undefined || a === undefined) throw new PoisonedSessionError(NOT_A_SESSION)
  if (o.now >= e || o.now >= a) return 'script'
  // the deadline never moves back, so this is not expected; if it is due, the script decides
  if (e <= o.extendIfBefore) return 'script'
  return { session: decodeSession(flat), extended: false }
}

/** The scripts' `num`: optional minus, digits, at most 17 characters. */
function strictInteger(text: unknown): number | undefined {
  return typeof text === 'string' && text.length <= 17 && /^-?\d+$/.test(text)
    ? Number(text)
    : undefined
}
