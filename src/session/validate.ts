/**
 * What the session API accepts: field names, values, user ids, roles and methods. Bad input is
 * a {@link SessionInputError} (400); a value too large for the limits a {@link SessionLimitError}
 * (413).
 */
import { isWellFormed, utf8Length } from '../bytes.js'
import { SessionInputError, SessionLimitError } from '../errors.js'
import { RESERVED_PREFIX } from '../store/types.js'

const FIELD_NAME_MAX = 200

/** The error for a field name the API refuses, or undefined for a good one. */
export function nameError(name: string): SessionInputError | undefined {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > FIELD_NAME_MAX ||
    name.startsWith(RESERVED_PREFIX) ||
    // assigning it to a plain object sets the prototype instead: the value would be lost
    name === '__proto__'
  ) {
    return new SessionInputError(
      `session field names must be 1 to ${FIELD_NAME_MAX} characters, not start with "${RESERVED_PREFIX}" and not be "__proto__"`,
    )
  }
  return undefined
}

export function checkName(name: string): void {
  const bad = nameError(name)
  if (bad) throw bad
}

/** A value as the store keeps it (JSON text), bounded by `maxFieldBytes` with its name. */
export function encodeValue(field: string, value: unknown, maxFieldBytes: number): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    text = undefined
  }
  if (text === undefined)
    throw new SessionInputError(`session field "${field}" is not JSON-serialisable`)
  if (utf8Length(field) + utf8Length(text) > maxFieldBytes) {
    throw new SessionLimitError(`session field "${field}" exceeds ${maxFieldBytes} bytes`)
  }
  return text
}

export function decodeValue(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // A value edited by hand in the store: treat it as absent rather than crash the request.
    return undefined
  }
}

export function checkUserId(userId: unknown): string {
  if (
    typeof userId !== 'string' ||
    userId.length === 0 ||
    userId.length > 256 ||
    !isWellFormed(userId)
  ) {
    throw new SessionInputError(
      'authenticate() needs a user id of 1 to 256 characters of well-formed text',
    )
  }
  return userId
}

/**
 * Authentication methods travel in the token, so they are bounded tightly: with a uid of at most
 * 256 characters the cookie stays far below the 4 KiB browsers keep (about 1.3 KiB at most).
 */
export function checkMethods(list: unknown): string[] {
  if (
    !Array.isArray(list) ||
    list.length > 8 ||
    !list.every((m) => typeof m === 'string' && /^[a-z0-9_-]{1,32}$/.test(m))
  ) {
    throw new SessionInputError(
      'authentication methods must be at most 8 names of [a-z0-9_-]{1,32}',
    )
  }
  return [...list]
}

export function checkRoles(list: unknown): string[] {
  if (
    !Array.isArray(list) ||
    list.length > 64 ||
    !list.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 64)
  ) {
    throw new SessionInputError('roles must be a list of at most 64 non-empty strings')
  }
  return [...list]
}

/** A session id as `listSessions()` shows it. */
export function checkSessionId(id: unknown): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(id))
    throw new SessionInputError('invalid session id')
  return id
}
