/**
 * The state of one request's session as tagged unions (which session the request names, what
 * the store said about it, what the request asks of it) and the few transitions between them.
 */
import type { SessionRuntime } from '../runtime.js'
import type { SessionKey, StoredSession } from '../store/types.js'
import type { TokenClaims } from '../token.js'
import { ChangeSet } from './changes.js'
import { afterDestroy, regenerating, type Intent, type Regeneration } from './intent.js'
import type { SessionRequest } from './types.js'

/** Which session the request names. */
export type Identity =
  | { kind: 'none' }
  /** A cookie that did not open (forged, expired, unknown key): it is cleared. */
  | { kind: 'invalid' }
  /**
   * An opened token. `aliased`: it named a rotation alias and `key` is the entry it moved to;
   * the response then never touches the cookie (a newer one is already on its way).
   */
  | { kind: 'token'; token: string; claims: TokenClaims; key: SessionKey; aliased: boolean }
  /** Destroyed in this request: the cookie is cleared (unless aliased); writes start anew. */
  | { kind: 'ended'; aliased: boolean }

/** What the store said about the named session. */
export type Presence =
  | { kind: 'unknown' }
  /** Loaded. `extendedTo`: the idle deadline moved (re-send the cookie); `rotateDue`: rotate. */
  | { kind: 'live'; extendedTo: number | undefined; rotateDue: boolean }
  /** Expired, destroyed, poisoned, or found dead by a per-user operation. */
  | { kind: 'gone' }
  /** The store failed and fail-open serves the request as anonymous: nothing may be written. */
  | { kind: 'detached' }

/** The mutable state of one request's session, shared by the facade and its helpers. */
export class SessionState {
  identity: Identity = { kind: 'none' }
  presence: Presence = { kind: 'unknown' }
  intent: Intent = { kind: 'keep' }
  readonly changes = new ChangeSet()
  /** The load under way or done (settled: a failed load nobody awaits must not crash Node). */
  loading: Promise<StoredSession | null> | undefined
  /** Read or changed: the response depends on the session (and the request was told). */
  used = false

  constructor(
    readonly rt: SessionRuntime,
    readonly request: SessionRequest | undefined,
  ) {}

  get token(): (Identity & { kind: 'token' }) | undefined {
    return this.identity.kind === 'token' ? this.identity : undefined
  }

  /** The key the token names (through an alias: the one it moved to). */
  get key(): SessionKey | undefined {
    return this.token?.key
  }

  /** True once the store found the session gone (or fail-open detached it). */
  get gone(): boolean {
    return this.presence.kind === 'gone' || this.presence.kind === 'detached'
  }

  /** The key while the session may still be live. */
  get liveKey(): SessionKey | undefined {
    return this.gone ? undefined : this.key
  }

  /** The absolute deadline the token carries, epoch ms. */
  get absoluteDeadline(): number {
    return this.token!.claims.exp * 1000
  }

  /** The request names the session of an opened token. */
  identify(token: string, claims: TokenClaims, id: string): void {
    this.identity = { kind: 'token', token, claims, key: { id, uid: claims.uid }, aliased: false }
  }

  touch(): void {
    if (this.used) return
    this.used = true
    this.request?.used()
  }

  markGone(): void {
    if (this.presence.kind !== 'detached') this.presence = { kind: 'gone' }
  }

  /** Continues with the entry a rotation alias points to. */
  follow(movedTo: string): SessionKey {
    const token = this.token!
    token.key = { id: movedTo, uid: token.key.uid }
    token.aliased = true
    return token.key
  }

  /** The request's regeneration, started by the first intent. */
  regeneration(): Regeneration {
    this.touch()
    const intent = regenerating(this.intent)
    this.intent = intent
    return intent.regen
  }

  /** Ends the session: deleted when the response is ready, cookie cleared, data dropped. */
  destroy(): void {
    this.intent = afterDestroy(this.intent, this.key)
    this.forget()
  }

  /** Drops this request's hold on the session (it ended here, or in the store). */
  forget(): void {
    this.touch()
    const id = this.identity
    this.identity = {
      kind: 'ended',
      aliased: (id.kind === 'token' || id.kind === 'ended') && id.aliased,
    }
    if (this.presence.kind !== 'detached') this.presence = { kind: 'unknown' }
    this.loading = Promise.resolve(null)
    this.changes.clear()
    // what was asked ends with the session; one destroyed earlier in the request is still deleted
    this.intent = afterDestroy(this.intent, undefined)
  }
}
