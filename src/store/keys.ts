import type { SessionKey } from './types.js'

/**
 * Redis key layout, shared by both Redis stores, the gateway tests and the ops CLI.
 *
 * - anonymous session: `<prefix><id>` (spreads over the cluster by its own hash)
 * - authenticated:     `<prefix>{<uid>}:<id>` (all of a user's sessions in one slot)
 * - the user's index:  `<prefix>{<uid>}` (sorted set: member id, score expiresAt)
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

/**
 * A small per-user item in the user's slot: `<prefix>{<uid>}:<kind>:<name>`, kind `h` (hit
 * counter), `c` (claim) or `v` (value). The `:` after the kind keeps it apart from session ids.
 */
export function userItemKeyName(
  prefix: string,
  uid: string,
  kind: 'h' | 'c' | 'v',
  name: string,
): string {
  return `${prefix}{${encodeUid(uid)}}:${kind}:${name}`
}

/** Parses a key name back into its parts; `null` for a key that is not ours. */
export function parseKeyName(
  prefix: string,
  name: string,
): { kind: 'session'; key: SessionKey } | { kind: 'index'; uid: string } | null {
  if (!name.startsWith(prefix)) return null
  const rest = name.slice(prefix.length)
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
