import { SessionInputError, StoreError } from '../../errors.js'
import {
  FLASH_PREFIX,
  RATE_KEY,
  RESERVED_PREFIX,
  USER_ITEM_NAME,
  type Actor,
  type SessionKey,
  type SessionMeta,
} from '../types.js'

export { FLASH_PREFIX, RESERVED_PREFIX }

/**
 * The Redis layout in one place: key names and every reserved hash field name, shared by both
 * Redis stores, the Lua scripts (which receive the names from here), the ops CLI and the tests.
 *
 * Keys:
 *
 * - anonymous session: `<prefix><id>` (spreads over the cluster by its own hash)
 * - authenticated:     `<prefix>{<uid>}:<id>` (all of a user's sessions in one slot)
 * - the user's index:  `<prefix>{<uid>}` (sorted set: member id, score expiresAt)
 * - a per-user item:   `<prefix>{<uid>}:<kind>:<name>` (string; see {@link userItemKeyName})
 * - a rate limit:      `<prefix>rl:{<key>}` (string; the key is the limiter's name and a hash)
 *
 * The uid is percent-encoded so that `{`, `}` and `:` in a user id can never move the hash tag
 * or collide with another key shape. Ids are base64url and never contain `{`.
 */
export const DEFAULT_PREFIX = 'sess:'

export function encodeUid(uid: string): string {
  return encodeURIComponent(uid)
}

export function decodeUid(encoded: string): string {
  return decodeURIComponent(encoded)
}

export function sessionKeyName(prefix: string, key: SessionKey): string {
  return key.uid === undefined ? prefix + key.id : `${prefix}{${encodeUid(key.uid)}}:${key.id}`
}

export function userIndexKeyName(prefix: string, uid: string): string {
  return `${prefix}{${encodeUid(uid)}}`
}

/** The kind of a per-user item: `h` hit counter, `c` claim, `v` value. */
export type UserItemKind = 'h' | 'c' | 'v'

/**
 * A small per-user item in the user's slot: `<prefix>{<uid>}:<kind>:<name>`, kind `h` (hit
 * counter), `c` (claim) or `v` (value). The `:` after the kind keeps it apart from session ids.
 */
export function userItemKeyName(
  prefix: string,
  uid: string,
  kind: UserItemKind,
  name: string,
): string {
  return `${prefix}{${encodeUid(uid)}}:${kind}:${name}`
}

/**
 * A rate limit counter (`Store.rateHit`): `<prefix>rl:{<key>}`. Outside every user's slot and
 * shape (`rl:` before the tag), so it is never read as a session, an index or a user's item.
 */
export function rateKeyName(prefix: string, key: string): string {
  if (!RATE_KEY.test(key)) throw new SessionInputError('invalid rate limit key')
  return `${prefix}rl:{${key}}`
}

/** What {@link parseKeyName} recognises. */
export type ParsedKeyName =
  | { kind: 'session'; key: SessionKey }
  | { kind: 'index'; uid: string }
  | { kind: 'item'; uid: string; item: UserItemKind; name: string }

/**
 * Parses a key name back into its parts; `null` for a key that is not ours. Item names may hold
 * any character (the store limits what it writes, but a parser need not).
 */
export function parseKeyName(prefix: string, name: string): ParsedKeyName | null {
  if (!name.startsWith(prefix)) return null
  const rest = name.slice(prefix.length)
  // An item has `<kind>:` after the tag; session ids are base64url (no ':'), so never both.
  const item = /^\{([^{}]*)\}:([hcv]):([\s\S]+)$/.exec(rest)
  if (item) {
    const uid = safeDecode(item[1]!)
    if (uid === null) return null
    return { kind: 'item', uid, item: item[2] as UserItemKind, name: item[3]! }
  }
  const m = /^\{([^{}]*)\}(?::([A-Za-z0-9_-]{43}))?$/.exec(rest)
  if (m) {
    const uid = safeDecode(m[1]!)
    if (uid === null) return null
    return m[2] === undefined ? { kind: 'index', uid } : { kind: 'session', key: { id: m[2], uid } }
  }
  return /^[A-Za-z0-9_-]{43}$/.test(rest) ? { kind: 'session', key: { id: rest } } : null
}

function safeDecode(s: string): string | null {
  try {
    return decodeUid(s)
  } catch {
    return null
  }
}

/** Checks a key prefix at start-up: it must not contain a hash tag character. */
export function assertPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new Error(`Session store option "prefix" must be a string without "{" or "}": ${prefix}`)
  }
}

/**
 * How a session is laid out as one Redis hash: data fields under their own names, metadata
 * under short reserved names (`$` + one letter) so that a session costs few bytes.
 */
export const META_FIELDS = {
  createdAt: '$c',
  expiresAt: '$e',
  absoluteExpiresAt: '$a',
  lastSeenAt: '$l',
  uid: '$u',
  roles: '$r',
  authTime: '$t',
  amr: '$m',
  rotatedAt: '$o',
  client: '$h',
  revokedMethods: '$x',
} as const satisfies Record<keyof SessionMeta, string>

/**
 * Marks a rotation alias: what `rotate` leaves at the previous key for the grace window, only
 * `$mv` (the id the session moved to) and `$e` (the end of the window). A hash holding `$mv` is
 * an alias whatever else it holds.
 */
export const ALIAS_FIELD = '$mv'

/** Summary fields read per listed session, in the order `listUser` returns them after the id. */
export const SUMMARY_FIELDS = [
  META_FIELDS.createdAt,
  META_FIELDS.lastSeenAt,
  META_FIELDS.expiresAt,
  META_FIELDS.absoluteExpiresAt,
  META_FIELDS.authTime,
  META_FIELDS.amr,
  META_FIELDS.client,
  META_FIELDS.revokedMethods,
] as const

/** The keys of a session script: the session, and its user's index when authenticated. */
export function sessionKeys(prefix: string, key: SessionKey): string[] {
  return key.uid === undefined
    ? [sessionKeyName(prefix, key)]
    : [sessionKeyName(prefix, key), userIndexKeyName(prefix, key.uid)]
}

/** The key of the session acting for `uid` (its slot), for the scripts' liveness check. */
export function actorKeys(prefix: string, uid: string, actor: Actor | undefined): string[] {
  return actor === undefined ? [] : [sessionKeyName(prefix, { id: actor.id, uid })]
}

/** A per-user item's key, its name checked. */
export function itemKey(prefix: string, uid: string, kind: UserItemKind, name: string): string {
  if (!USER_ITEM_NAME.test(name)) throw new StoreError('invalid per-user item name')
  return userItemKeyName(prefix, uid, kind, name)
}

/** A data field name the scripts may write: not reserved, except flash fields. */
export function checkField(name: string): void {
  if (name.length === 0 || (name.startsWith(RESERVED_PREFIX) && !name.startsWith(FLASH_PREFIX))) {
    throw new SessionInputError('session field names must not be empty or start with "$"')
  }
}
