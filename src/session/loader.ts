/** Loading the request's session from the store, following a rotation alias once. */
import { PoisonedSessionError, SessionStateError } from '../errors.js'
import { extension } from '../expiry.js'
import { isRefusal } from '../runtime.js'
import {
  isMoved,
  type LoadOptions,
  type MovedResult,
  type SessionKey,
  type StoredSession,
} from '../store/types.js'
import { openSession } from './sealing.js'
import type { SessionState } from './state.js'
import type { SessionInfo } from './types.js'

/**
 * Runs a keyed store call; when the key is a rotation alias, runs it once more on the entry it
 * points to (an alias of an alias counts as gone). The one place aliases are followed.
 */
export async function throughAlias<R>(
  s: SessionState,
  key: SessionKey,
  call: (key: SessionKey) => Promise<R | MovedResult | null>,
): Promise<R | null> {
  const res = await call(key)
  if (!isMoved(res)) return res
  const again = await call(s.follow(res.movedTo))
  return isMoved(again) ? null : again
}

/** An atomic increment asked of the store; `refused` is filled in by the load. */
interface IncrementRequest {
  field: string
  by: number
  refused?: boolean
}

/** The request's load, started on the first read and shared by every later one. */
export function load(s: SessionState): Promise<StoredSession | null> {
  if (!s.loading) {
    s.touch()
    s.loading = settled(fetchSession(s))
  }
  return s.loading
}

/**
 * Loads (and with `increment`, adds to a field in the same store call, recording in it whether
 * the store refused); null when gone. Updates the presence from what the store answered.
 */
export async function fetchSession(
  s: SessionState,
  increment?: IncrementRequest,
): Promise<StoredSession | null> {
  const token = s.token
  if (!token) return null
  const rt = s.rt
  const now = rt.now()
  const options: LoadOptions = extension(now, s.absoluteDeadline, rt.policy)
  if (increment) {
    options.increment = { field: increment.field, by: increment.by }
    options.maxDataBytes = rt.limits.maxSessionBytes
  }
  const first = token.key
  try {
    const res = await throughAlias(s, first, (key) =>
      rt.call('load', () => rt.store.load(key, options)),
    )
    if (!res) {
      s.markGone()
      rt.emit({ type: 'expired', id: first.id })
      return null
    }
    const meta = res.session.meta
    const before = s.presence.kind === 'live' ? s.presence.extendedTo : undefined
    s.presence = {
      kind: 'live',
      extendedTo: res.extended ? meta.expiresAt : before,
      rotateDue:
        rt.rotateEveryMs > 0 &&
        !token.aliased &&
        meta.uid !== undefined &&
        now - (meta.rotatedAt ?? meta.createdAt) >= rt.rotateEveryMs,
    }
    if (increment) increment.refused = res.incrementRefused === true
    const stored = res.session
    // not awaited in the common case (nothing sealed, nothing revoked): the read is the hot path
    return rt.encryptAtRest || stored.meta.revokedMethods !== undefined
      ? await openSession(rt, stored, token.claims.dk)
      : stored
  } catch (err) {
    if (err instanceof PoisonedSessionError) {
      s.markGone()
      return null
    }
    if (!rt.failOpen || isRefusal(err)) throw err
    // fail-open: serve this request as anonymous and leave the stored session and cookie alone.
    s.presence = { kind: 'detached' }
    return null
  }
}

/** The same promise, marked handled: a failed load that nobody awaits must not crash Node. */
export function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {})
  return promise
}

/**
 * Adds `by` to `field` in the store, in the same call as the load (one round trip, atomic).
 * @returns the new value, or undefined when the store cannot do it (sealed values, a pending
 * change of the field, no live session) and the caller reads and writes instead
 */
export async function incrementInStore(
  s: SessionState,
  field: string,
  by: number,
): Promise<number | undefined> {
  if (s.rt.encryptAtRest || s.changes.has(field) || s.liveKey === undefined) return undefined
  // after any read already under way, so the fresher copy replaces it
  const earlier = s.loading
  s.touch()
  const request: IncrementRequest = { field, by }
  const fetched = earlier
    ? earlier.then(() => (s.gone ? null : fetchSession(s, request)))
    : fetchSession(s, request)
  s.loading = settled(fetched)
  const session = await fetched
  // gone (or fail-open detached): counted as a change, like a set() on a new session
  if (!session) return undefined
  if (request.refused)
    throw new SessionStateError(`session field "${field}" is not a safe integer, or would not be`)
  return Number(session.fields[field])
}

/** Server-side facts about the loaded session `base`, or null when there is none. */
export function infoOf(s: SessionState, base: StoredSession | null): SessionInfo | null {
  if (!base || !s.key) return null
  const m = base.meta
  const extendedTo = s.presence.kind === 'live' ? s.presence.extendedTo : undefined
  return {
    id: s.key.id,
    userId: m.uid,
    roles: m.roles ?? [],
    authTime: m.authTime,
    amr: m.amr ?? [],
    createdAt: m.createdAt,
    expiresAt: extendedTo ?? m.expiresAt,
    absoluteExpiresAt: m.absoluteExpiresAt,
  }
}
