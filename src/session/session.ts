import { SessionInputError, SessionRequiredError, SessionStateError } from '../errors.js'
import type { SessionEvent } from '../events.js'
import type { SessionRuntime } from '../runtime.js'
import { FLASH_PREFIX } from '../store/types.js'
import { incrementInStore, infoOf, load } from './loader.js'
import { openToken } from './opening.js'
import { SessionState } from './state.js'
import {
  kEmit,
  kFinish,
  kOpen,
  type AuthenticateOptions,
  type Outcome,
  type ReserveResult,
  type SessionData,
  type SessionInfo,
  type SessionRequest,
} from './types.js'
import { userScope, type DeviceSummary } from './user-scope.js'
import {
  checkMethods,
  checkName,
  checkRoles,
  checkSessionId,
  checkUserId,
  decodeValue,
  encodeValue,
  nameError,
} from './validate.js'
import { finish } from './writer.js'

/**
 * The session of one request, as `c.get('session')`. Reads are lazy and asynchronous (the store
 * is asked once, on the first read); writes are synchronous and recorded per field, and reach the
 * store in one call when the response is ready. The secret is never exposed.
 */
export class Session<Data extends SessionData = SessionData> {
  readonly #s: SessionState

  /** @internal Created by the middleware; `request` is what the session asks of it. */
  constructor(runtime: SessionRuntime, request?: SessionRequest) {
    this.#s = new SessionState(runtime, request)
  }

  /** @internal Opens the token: crypto only, synchronous for a token this process opened before. */
  [kOpen](token: string): Promise<void> | undefined {
    return openToken(this.#s, token)
  }

  /** True when this request has no stored session to continue (none, invalid, gone or destroyed). */
  get isNew(): boolean {
    this.#s.touch()
    return this.#s.liveKey === undefined
  }

  /**
   * The user the token names (no store call): a hint, not proof. The token may belong to a
   * session that was logged out, revoked or rotated away; `info()`, the guards and every
   * per-user member check the store. Undefined once the session is known to be gone.
   */
  get userId(): string | undefined {
    this.#s.touch()
    return this.#s.liveKey?.uid
  }

  /**
   * The store id of the session the token names (as `info().id`, no store call): a hint, as
   * {@link userId} is. Give it as the actor of a per-user store call, which checks it is live.
   */
  get id(): string | undefined {
    this.#s.touch()
    return this.#s.liveKey?.id
  }

  /** Reads one field. */
  get<K extends keyof Data & string>(name: K): Promise<Data[K] | undefined> {
    // not an async function: the read is the hot path, and a returned promise costs extra ticks
    const bad = nameError(name)
    if (bad) return Promise.reject(bad)
    return this.#read(name) as Promise<Data[K] | undefined>
  }

  /** True when the field is set. */
  async has(name: keyof Data & string): Promise<boolean> {
    checkName(name)
    return (await this.#read(name)) !== undefined
  }

  /** Every data field (flash values excluded). */
  async all(): Promise<Partial<Data>> {
    const base = await load(this.#s)
    const out: Record<string, unknown> = {}
    for (const [name, text] of Object.entries(this.#s.changes.appliedTo(base?.fields))) {
      if (!name.startsWith(FLASH_PREFIX)) out[name] = decodeValue(text)
    }
    return out as Partial<Data>
  }

  /**
   * Sets one field; only changed fields reach the store. `undefined` deletes it.
   * @throws SessionInputError (400) for a bad name or a value that is not JSON
   * @throws SessionLimitError (413) when the field is too large
   */
  set<K extends keyof Data & string>(name: K, value: Data[K]): void {
    checkName(name)
    this.#write(name, value)
  }

  /** Deletes one field. */
  delete(name: keyof Data & string): void {
    checkName(name)
    this.#write(name, undefined)
  }

  /**
   * Adds `by` to an integer field and returns the new value. On the Redis and memory stores it
   * is atomic (concurrent requests never lose a count) and, as the request's first read, costs
   * the same single round trip as a read: the store loads the session and increments in one
   * step, so later reads in the request are free. A missing field counts from 0.
   *
   * With `encryptAtRest` (values are sealed, the store cannot add to them), after a `set()` of
   * the same field in this request, or without a stored session yet, it reads and writes the
   * value like `get()` + `set()` (not atomic).
   * @throws SessionInputError (400) when `by` or the result is not a safe integer
   * @throws SessionStateError when the field holds something other than an integer
   */
  async increment(name: keyof Data & string, by = 1): Promise<number> {
    checkName(name)
    if (!Number.isSafeInteger(by)) throw new SessionInputError('increment needs a safe integer')
    const counted = await incrementInStore(this.#s, name, by)
    if (counted !== undefined) return counted
    const value = ((await this.#read(name)) ?? 0) as number
    if (!Number.isSafeInteger(value))
      throw new SessionStateError(`session field "${name}" is not an integer`)
    if (!Number.isSafeInteger(value + by))
      throw new SessionInputError(`session field "${name}" would not be a safe integer`)
    this.#write(name, value + by)
    return value + by
  }

  /** Stores a value that the next read of `flash(name)` returns once and deletes. */
  flash(name: string, value: unknown): void
  /** Returns a flash value once and deletes it. */
  flash<T = unknown>(name: string): Promise<T | undefined>
  flash(name: string, ...value: unknown[]): void | Promise<unknown> {
    checkName(name)
    const field = FLASH_PREFIX + name
    if (value.length > 0) return this.#write(field, value[0])
    return this.#read(field).then((v) => {
      if (v !== undefined) this.#write(field, undefined)
      return v
    })
  }

  /** A new secret when the response is sent: data kept, the old token dead (fixation defence). */
  regenerate(): void {
    this.#s.regeneration()
  }

  /**
   * Binds the session to a user: a new secret (the pre-login one stops working), the key moves
   * to the user's slot, roles and authentication methods recorded server-side, auth time = now.
   * Data of an anonymous session is kept; data of another user's session is not.
   * @throws SessionInputError (400) for a bad user id, roles or methods
   */
  authenticate(userId: string, options: AuthenticateOptions = {}): void {
    const uid = checkUserId(userId)
    const roles = checkRoles(options.roles ?? [])
    const amr = checkMethods(options.amr ?? ['pwd'])
    this.#s.regeneration().authenticate = { uid, roles, amr }
  }

  /** This session's roles; a privilege change regenerates the secret. Wins over `authenticate()`'s. */
  setRoles(roles: string[]): void {
    this.#s.regeneration().roles = checkRoles(roles)
  }

  /**
   * Changes the roles of every live session of a user in one store call (an admin action), each
   * taking effect on its next request. For the caller's own user the liveness check runs in the
   * same store step and this session also regenerates with them; for another user this session
   * is loaded first (free after a guard such as `requireRole`) and must be live.
   * @returns how many sessions changed
   * @throws SessionRequiredError when this session is not live
   */
  async updateUserRoles(userId: string, roles: string[]): Promise<number> {
    const list = checkRoles(roles)
    const s = this.#s
    s.touch()
    if (s.key?.uid === userId) return userScope(s).setRoles(list)
    if (!(await load(s)) || s.key?.uid === undefined) throw new SessionRequiredError()
    return s.rt.call('updateUser', () => s.rt.store.updateUser(userId, { roles: list }, s.rt.now()))
  }

  /**
   * Records a completed second factor (e.g. `'otp'`) of the user the request came in with: it
   * joins `amr`, the auth time becomes now and the secret is regenerated. An `authenticate()` of
   * another user in the same request drops it (pass sign-in's methods as its `amr` instead).
   */
  stepUp(method: string): void {
    checkMethods([method])
    this.#s.regeneration().stepUps.push({ method, uid: this.#s.liveKey?.uid })
  }

  /**
   * A second factor was replaced or removed: `method` stops counting in every session of the
   * user (until a new step-up with it), this one too unless `keepCurrent`. One store call.
   * @returns how many sessions changed
   */
  async revokeMethod(method: string, options: { keepCurrent?: boolean } = {}): Promise<number> {
    checkMethods([method])
    return userScope(this.#s).revokeMethod(method, options.keepCurrent === true)
  }

  /** The permissions granted by this session's roles through the `permissions` option. */
  async permissions(): Promise<Set<string>> {
    const out = new Set<string>()
    for (const role of (await this.info())?.roles ?? []) {
      for (const p of this.#s.rt.permissions.get(role) ?? []) out.add(p)
    }
    return out
  }

  /**
   * Counts an event for the signed-in user in a fixed window; `by = 0` only reads, a negative
   * `by` gives back. To enforce a limit use {@link reserve}.
   * @returns the count in the current window
   */
  async countEvent(name: string, windowMs: number, by = 1): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new SessionInputError('countEvent needs an integer')
    return (await userScope(this.#s).hit(name, windowMs, by)).count
  }

  /**
   * Takes one attempt from the signed-in user's budget of `limit` per fixed window before the
   * attempt is made, in one atomic store step: however many requests run in parallel, at most
   * `limit` are allowed. Give a success back with `countEvent(name, windowMs, -1)`.
   */
  async reserve(
    name: string,
    options: { limit: number; windowMs: number },
  ): Promise<ReserveResult> {
    const { limit, windowMs } = options
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new SessionInputError('reserve needs a limit of 0 or more')
    return userScope(this.#s).hit(name, windowMs, undefined, limit)
  }

  /** Marks `name` used for the signed-in user for `ttlMs`; false when it already was (replay). */
  async claimOnce(name: string, ttlMs: number): Promise<boolean> {
    return userScope(this.#s).claimOnce(name, ttlMs)
  }

  /** Reads a per-user secret kept in the store, sealed with the key ring; null when unset. */
  async readUserSecret(name: string): Promise<string | null> {
    return userScope(this.#s).readUserSecret(name)
  }

  /** Stores (or with null, deletes) a per-user secret, sealed with the key ring. */
  async writeUserSecret(name: string, value: string | null): Promise<void> {
    return userScope(this.#s).writeUserSecret(name, value)
  }

  /** @internal */
  [kEmit](event: SessionEvent): void {
    this.#s.rt.emit(event)
  }

  /** The middleware's clock (epoch milliseconds). */
  now(): number {
    return this.#s.rt.now()
  }

  /** Server-side facts about the session, or null when there is none. */
  async info(): Promise<SessionInfo | null> {
    return infoOf(this.#s, await load(this.#s))
  }

  /** Ends the session: the store entry is deleted and the cookie cleared. Later writes start anew. */
  destroy(): void {
    this.#s.destroy()
  }

  /** The user's sessions ("my devices"), the current one marked. */
  async listSessions(): Promise<DeviceSummary[]> {
    return userScope(this.#s).listSessions()
  }

  /** Revokes one of the user's sessions by its id (from `listSessions`). */
  async revoke(id: string): Promise<void> {
    this.#s.touch()
    checkSessionId(id)
    if (id === this.#s.liveKey?.id) return this.destroy()
    return userScope(this.#s).revoke(id)
  }

  /** Log out everywhere: deletes every session of the user, this one included, atomically. */
  async destroyAll(): Promise<number> {
    return userScope(this.#s).destroyAll()
  }

  /**
   * Logs out every other session of the user (after a password change: OWASP's renewal on
   * privilege change) and gives this one a new secret when the response is sent.
   * @returns how many other sessions were live
   */
  async destroyOthers(): Promise<number> {
    return userScope(this.#s).destroyOthers()
  }

  /** @internal Writes what changed; returns the cookie. Synchronous when nothing is written. */
  [kFinish](): Outcome | Promise<Outcome> {
    return finish(this.#s)
  }

  #read(field: string): Promise<unknown> {
    const change = this.#s.changes.get(field)
    if (change !== undefined)
      return Promise.resolve(change === null ? undefined : decodeValue(change))
    return load(this.#s).then((base) => {
      // own fields only: a name like "toString" must not find Object.prototype's
      const text = base && Object.hasOwn(base.fields, field) ? base.fields[field] : undefined
      return text === undefined ? undefined : decodeValue(text)
    })
  }

  #write(field: string, value: unknown): void {
    const text =
      value === undefined ? null : encodeValue(field, value, this.#s.rt.limits.maxFieldBytes)
    this.#s.touch()
    this.#s.changes.record(field, text)
  }
}

export {
  kEmit,
  kFinish,
  kOpen,
  type AuthenticateOptions,
  type CookieAction,
  type Outcome,
  type ReserveResult,
  type SessionData,
  type SessionInfo,
  type SessionRequest,
} from './types.js'
export type { DeviceSummary } from './user-scope.js'
