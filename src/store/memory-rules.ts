/**
 * The memory store's rules, the same as the Redis scripts': sliding extension, the integer and
 * size rules of a write, per-user item names, and copies callers may change.
 */
import { checkDataGrowth } from '../bytes.js'
import { userItemKeyName } from './redis/layout.js'
import type { ExtendOptions, SessionKey, SessionPatch, StoredSession } from './types.js'
import { USER_ITEM_NAME } from './types.js'

/** Moves the idle deadline when due; returns whether it moved. */
export function extend(
  session: StoredSession,
  { now, extendIfBefore, extendTo }: ExtendOptions,
): boolean {
  const meta = session.meta
  if (meta.expiresAt > extendIfBefore) return false
  const to = Math.min(extendTo, meta.absoluteExpiresAt)
  if (to <= meta.expiresAt) return false
  meta.expiresAt = to
  meta.lastSeenAt = now
  return true
}

/**
 * The Redis scripts' integer rule: the field and the sum must both be safe integers; and their
 * size rule (a SessionLimitError when the new value takes the data past `maxDataBytes`).
 */
export function addTo(
  fields: Record<string, string>,
  { field, by }: { field: string; by: number },
  maxDataBytes: number | undefined,
) {
  const text = Object.hasOwn(fields, field) ? fields[field]! : '0'
  if (text.length > 17 || !/^-?\d+$/.test(text)) return false
  const sum = Number(text) + by
  if (!Number.isSafeInteger(Number(text)) || !Number.isSafeInteger(sum)) return false
  checkSize(fields, { set: { [field]: String(sum) }, del: [] }, maxDataBytes)
  fields[field] = String(sum)
  return true
}

/** The scripts' size rule: a write may not grow the data past `max` (nothing is written). */
export function checkSize(
  fields: Record<string, string>,
  patch: Pick<SessionPatch, 'set' | 'del'>,
  max: number | undefined,
): void {
  if (max === undefined) return
  const after: Record<string, string> = { ...fields }
  for (const name of patch.del) delete after[name]
  Object.assign(after, patch.set)
  checkDataGrowth(fields, after, max)
}

export function itemKey(uid: string, kind: 'h' | 'c' | 'v', name: string): string {
  if (!USER_ITEM_NAME.test(name)) throw new Error(`invalid per-user item name: ${name}`)
  return userItemKeyName('', uid, kind, name)
}

/** A copy the caller may change freely: values are strings, only the lists need their own copy. */
export function clone(session: StoredSession): StoredSession {
  const meta = { ...session.meta }
  if (meta.roles) meta.roles = [...meta.roles]
  if (meta.amr) meta.amr = [...meta.amr]
  if (meta.revokedMethods) meta.revokedMethods = [...meta.revokedMethods]
  return { fields: { ...session.fields }, meta }
}

/** One entry of the memory store: a session, or a rotation alias. */
export interface Entry {
  key: SessionKey
  session: StoredSession
  /** Set on a rotation alias: the id the session moved to (its deadline is `session.meta.expiresAt`). */
  movedTo?: string
}
