import { PoisonedSessionError } from '../../errors.js'
import type { SessionMeta, StoredSession } from '../types.js'
import { FLASH_PREFIX, META_FIELDS, RESERVED_PREFIX } from './layout.js'

/**
 * Encoding of a session as hash fields and back (the layout's names: `./layout.ts`).
 */

const NUMBER_META = [
  'createdAt',
  'expiresAt',
  'absoluteExpiresAt',
  'lastSeenAt',
  'authTime',
  'rotatedAt',
] as const
const LIST_META = ['roles', 'amr', 'revokedMethods'] as const

export { PoisonedSessionError }

/** Encodes the metadata fields present in `meta` as hash fields. */
export function encodeMeta(meta: Partial<SessionMeta>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of NUMBER_META) {
    const v = meta[name]
    if (v !== undefined) out[META_FIELDS[name]] = String(v)
  }
  for (const name of LIST_META) {
    const v = meta[name]
    if (v !== undefined) out[META_FIELDS[name]] = JSON.stringify(v)
  }
  if (meta.uid !== undefined) out[META_FIELDS.uid] = meta.uid
  if (meta.client !== undefined) out[META_FIELDS.client] = meta.client
  return out
}

/** Flattens a whole session into hash fields. */
export function encodeSession(session: StoredSession): Record<string, string> {
  return { ...session.fields, ...encodeMeta(session.meta) }
}

/**
 * Rebuilds a session from its hash fields: an object, or a flat `[field, value, ...]` array
 * (HGETALL's shape).
 * @throws PoisonedSessionError when required metadata is missing or malformed.
 */
export function decodeSession(hash: Record<string, string> | readonly unknown[]): StoredSession {
  const fields: Record<string, string> = {}
  const raw: Record<string, string> = {}
  if (Array.isArray(hash)) {
    if (hash.length % 2 !== 0) throw new PoisonedSessionError('odd number of hash entries')
    for (let i = 0; i < hash.length; i += 2) sortField(fields, raw, hash[i], hash[i + 1])
  } else {
    const record = hash as Record<string, string>
    for (const name of Object.keys(record)) sortField(fields, raw, name, record[name])
  }
  const meta: SessionMeta = {
    createdAt: requiredNumber(raw, 'createdAt'),
    expiresAt: requiredNumber(raw, 'expiresAt'),
    absoluteExpiresAt: requiredNumber(raw, 'absoluteExpiresAt'),
    lastSeenAt: optionalNumber(raw, 'lastSeenAt') ?? requiredNumber(raw, 'createdAt'),
  }
  const uid = raw[META_FIELDS.uid]
  if (uid !== undefined) meta.uid = uid
  const client = raw[META_FIELDS.client]
  if (client !== undefined) meta.client = client
  const authTime = optionalNumber(raw, 'authTime')
  if (authTime !== undefined) meta.authTime = authTime
  const rotatedAt = optionalNumber(raw, 'rotatedAt')
  if (rotatedAt !== undefined) meta.rotatedAt = rotatedAt
  for (const name of LIST_META) {
    const text = raw[META_FIELDS[name]]
    if (text !== undefined) meta[name] = stringList(text, name)
  }
  return { fields, meta }
}

/** Files one hash entry under data fields or metadata. */
function sortField(
  fields: Record<string, string>,
  raw: Record<string, string>,
  name: unknown,
  value: unknown,
): void {
  if (typeof name !== 'string' || typeof value !== 'string')
    throw new PoisonedSessionError(`field ${String(name)} is not a string`)
  if (name.startsWith(RESERVED_PREFIX) && !name.startsWith(FLASH_PREFIX)) raw[name] = value
  else fields[name] = value
}

function optionalNumber(
  raw: Record<string, string>,
  name: keyof typeof META_FIELDS,
): number | undefined {
  const text = raw[META_FIELDS[name]]
  if (text === undefined) return undefined
  const n = Number(text)
  if (!/^-?\d{1,16}$/.test(text) || !Number.isSafeInteger(n)) {
    throw new PoisonedSessionError(`metadata ${name} is not an integer`)
  }
  return n
}

function requiredNumber(raw: Record<string, string>, name: keyof typeof META_FIELDS): number {
  const n = optionalNumber(raw, name)
  if (n === undefined) throw new PoisonedSessionError(`metadata ${name} is missing`)
  return n
}

function stringList(text: string, name: string): string[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new PoisonedSessionError(`metadata ${name} is not JSON`)
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new PoisonedSessionError(`metadata ${name} is not a list of strings`)
  }
  return value as string[]
}
