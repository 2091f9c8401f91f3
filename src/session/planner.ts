/**
 * What the end of a request writes, as a pure function of the session's state: the commit plan
 * and the cookie when nothing (more) is written. The writer runs the plan; tests enumerate it.
 */
import { maxAgeSeconds } from '../expiry.js'
import type { Intent } from './intent.js'
import type { Identity, Presence } from './state.js'
import type { CookieAction } from './types.js'

/**
 * A write step. Each either answers with the cookie (done) or finds the session no longer
 * where it was, and the next step runs:
 * - `regenerate`: a new secret (data and principal by the intent merge rule);
 * - `rotate`: periodic rotation, this request's changes applied in the same store step;
 * - `commit`: the changes written in place (a gone session falls through);
 * - `create`: the changes as a brand-new session.
 */
export type Step = 'regenerate' | 'rotate' | 'commit' | 'create'

export type FinishPlan =
  /** Fail-open detached the session: the change cannot be honoured, say so rather than 200. */
  | { kind: 'refuse' }
  /** Delete `destroy` first (a logout), then run the steps in order until one answers. */
  | { kind: 'write'; destroy: boolean; steps: Step[] }

/** The facts the plan depends on. */
export interface FinishFacts {
  identity: Identity['kind']
  presence: Presence
  intent: Intent['kind']
  /** A destroyed session's key is waiting to be deleted. */
  destroy: boolean
  changes: number
  /** Some change sets a value (not only deletions). */
  setsAny: boolean
}

export function planFinish(f: FinishFacts): FinishPlan {
  if (f.presence.kind === 'detached') {
    const asked = f.changes > 0 || f.intent !== 'keep' || f.identity === 'ended'
    return asked ? { kind: 'refuse' } : { kind: 'write', destroy: false, steps: [] }
  }
  const steps: Step[] = []
  if (f.intent === 'regenerate') steps.push('regenerate')
  else {
    const live = f.identity === 'token' && f.presence.kind !== 'gone'
    if (live && f.presence.kind === 'live' && f.presence.rotateDue) steps.push('rotate')
    if (live && f.changes > 0) steps.push('commit')
    if (f.setsAny) steps.push('create')
  }
  return { kind: 'write', destroy: f.destroy, steps }
}

/** The cookie when no step answered: re-sent when the idle deadline moved, cleared when dead. */
export function cookieAfter(identity: Identity, presence: Presence, now: number): CookieAction {
  if (presence.kind === 'detached') return { kind: 'none' }
  // A request holding a rotated-away token must not overwrite the newer cookie.
  if ((identity.kind === 'token' || identity.kind === 'ended') && identity.aliased)
    return { kind: 'none' }
  if (identity.kind === 'token') {
    if (presence.kind === 'live' && presence.extendedTo !== undefined) {
      const abs = identity.claims.exp * 1000
      const maxAge = maxAgeSeconds(now, presence.extendedTo, abs)
      return { kind: 'set', token: identity.token, maxAge }
    }
    return presence.kind === 'gone' ? { kind: 'clear' } : { kind: 'none' }
  }
  return identity.kind === 'none' ? { kind: 'none' } : { kind: 'clear' }
}
