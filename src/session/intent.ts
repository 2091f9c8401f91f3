/**
 * What a request asks to happen to its session, and the one rule that merges intents made in
 * any order. Pure: no store, no clock of its own.
 */
import type { SessionKey, SessionMeta } from '../store/types.js'

/**
 * The one regeneration a request asks for, merged from every intent whatever their order:
 * - the user is the last `authenticate()`'s, else the session's own;
 * - roles: the last `setRoles()`, else `updateUserRoles()` of the final user, else
 *   `authenticate()`'s, else the stored ones;
 * - methods: `authenticate()`'s (else the stored ones) plus every `stepUp()` made for the final
 *   user (a step-up vouches for the user the request came in with, so an `authenticate()` of
 *   another user drops it); the auth time is now when either happened.
 * `destroy()` is a boundary: it drops what was asked before it, and what follows starts anew.
 */
export interface Regeneration {
  authenticate?: { uid: string; roles: string[]; amr: string[] }
  roles?: string[]
  /** Roles set by `updateUserRoles` on this session's own user: they apply if it stays that user. */
  userRoles?: { uid: string; roles: string[] }
  /** Second factors just completed, with the user they were completed for. */
  stepUps: { method: string; uid: string | undefined }[]
}

/** What the request asks of its stored session when the response is ready. */
export type Intent =
  | { kind: 'keep' }
  | { kind: 'destroy'; key: SessionKey }
  /** A new secret; `destroyFirst` is a session ended earlier in the same request. */
  | { kind: 'regenerate'; regen: Regeneration; destroyFirst: SessionKey | undefined }

/** The session ended by `destroy()` (or destroyed earlier in the request), if any. */
export function destroyedKey(intent: Intent): SessionKey | undefined {
  if (intent.kind === 'destroy') return intent.key
  if (intent.kind === 'regenerate') return intent.destroyFirst
  return undefined
}

/** `destroy()`: what was asked before it ends with the session; the earliest ended key stays. */
export function afterDestroy(intent: Intent, current: SessionKey | undefined): Intent {
  const key = current ?? destroyedKey(intent)
  return key ? { kind: 'destroy', key } : { kind: 'keep' }
}

/** The first intent that needs a new secret starts the request's regeneration. */
export function regenerating(intent: Intent): Intent & { kind: 'regenerate' } {
  if (intent.kind === 'regenerate') return intent
  return { kind: 'regenerate', regen: { stepUps: [] }, destroyFirst: destroyedKey(intent) }
}

/** Who the new entry is for, by the rule of {@link Regeneration}. */
export interface Principal {
  uid: string | undefined
  roles: string[] | undefined
  amr: string[] | undefined
  authTime: number | undefined
}

/** The principal after `regen`, from the stored one `kept` (undefined for a new session). */
export function principalAfter(
  regen: Regeneration | undefined,
  kept: SessionMeta | undefined,
  now: number,
): Principal {
  const auth = regen?.authenticate
  const base = auth ? undefined : kept
  const uid = auth?.uid ?? base?.uid
  const stepUps = (regen?.stepUps ?? []).filter((s) => s.uid !== undefined && s.uid === uid)
  const userRoles = regen?.userRoles?.uid === uid ? regen?.userRoles?.roles : undefined
  let amr = auth?.amr ?? base?.amr
  for (const { method } of stepUps) if (!amr?.includes(method)) amr = [...(amr ?? []), method]
  return {
    uid,
    roles: regen?.roles ?? userRoles ?? auth?.roles ?? base?.roles,
    authTime: auth || stepUps.length > 0 ? now : base?.authTime,
    amr,
  }
}
