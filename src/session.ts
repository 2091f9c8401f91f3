import { fieldCipher } from './at-rest.js'
import { dataBytes, isWellFormed, utf8Length } from './bytes.js'
import {
  PoisonedSessionError,
  SessionInputError,
  SessionLimitError,
  SessionRequiredError,
  SessionStateError,
  StoreError,
} from './errors.js'
import { extension, initialDeadlines, maxAgeSeconds } from './expiry.js'
import type { SessionEvent } from './events.js'
import { isRefusal, type SessionRuntime } from './runtime.js'
import {
  FLASH_PREFIX,
  RESERVED_PREFIX,
  isMoved,
  type Actor,
  type LoadOptions,
  type SessionKey,
  type SessionMeta,
  type SessionSummary,
  type StoredSession,
} from './store/types.js'
import { newSecret, secretToId, type TokenClaims } from './token.js'

/** The shape of an app's session data: field name -> JSON-serialisable value. */
export type SessionData = Record<string, unknown>

/** @internal What a session asks of the request it serves (the middleware provides it). */
export interface SessionRequest {
  /** A short client hint (the User-Agent), read only when a new session records one. */
  userAgent(): string | undefined
  /**
   * Called once, on the first read or change: the response now depends on the session (the
   * middleware marks it uncacheable while that is still cheap).
   */
  used(): void
}

/** @internal What the middleware does once the handler is done. */
export interface Outcome {
  cookie: CookieAction
  /**
   * The response depends on the session (it must not be cached): the session was read or
   * changed, and {@link SessionRequest.used} was called.
   */
  touched: boolean
}

/** What the middleware must do with the cookie once the handler is done. */
export type CookieAction =
  { kind: 'none' } | { kind: 'clear' } | { kind: 'set'; token: string; maxAge: number }

/** Public facts about the current session (no secret). */
export interface SessionInfo {
  /** Store id of this session (a hash of the secret, safe to show and to revoke by). */
  id: string
  userId?: string | undefined
  roles: string[]
  authTime?: number | undefined
  amr: string[]
  createdAt: number
  expiresAt: number
  absoluteExpiresAt: number
}

/** Options of {@link Session.authenticate}. */
export interface AuthenticateOptions {
  /** Server-side roles of the user. */
  roles?: string[]
  /** Authentication methods used, e.g. `['pwd']` or `['pwd', 'otp']`. */
  amr?: string[]
}

/** What {@link Session.reserve} found. */
export interface ReserveResult {
  /** False when the budget of this window is used up (nothing was counted). */
  allowed: boolean
  /** Attempts counted in the current window. */
  count: number
  /** Milliseconds until the window ends. */
  resetMs: number
}

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
interface Regeneration {
  authenticate?: { uid: string; roles: string[]; amr: string[] }
  roles?: string[]
  /** Roles set by `updateUserRoles` on this session's own user: they apply if it stays that user. */
  userRoles?: { uid: string; roles: string[] }
  /** Second factors just completed, with the user they were completed for. */
  stepUps: { method: string; uid: string | undefined }[]
}

/** @internal Used by the middleware; not part of the public API. */
export const kOpen = Symbol('open')
/** @internal */
export const kFinish = Symbol('finish')
/** @internal Lets the package's own modules (TOTP) report events. */
export const kEmit = Symbol('emit')

const FIELD_NAME_MAX = 200

/**
 * The session of one request, as `c.get('session')`. Reads are lazy and asynchronous (the store
 * is asked once, on the first read); writes are synchronous and recorded per field, and reach the
 * store in one call when the response is ready. The secret is never exposed.
 */
export class Session<Data extends SessionData = SessionData> {
  readonly #rt: SessionRuntime
  readonly #request: SessionRequest | undefined
  #token: string | undefined
  #claims: TokenClaims | undefined
  #key: SessionKey | undefined
  #loading: Promise<StoredSession | null> | undefined
  #extendedTo: number | undefined
  #gone = false
  #detached = false
  #invalidToken = false
  #clearCookie = false
  #destroyKey: SessionKey | undefined
  #regen: Regeneration | undefined
  /** The token names a rotation alias: the session moved; this response never touches the cookie. */
  #aliased = false
  /** Loaded, authenticated and older than `rotateEvery`: rotate when the response is ready. */
  #rotateDue = false
  readonly #changes = new Map<string, string | null>()
  /**
   * Read or changed in this request: the response depends on the session (and the request has
   * been told so).
   */
  #used = false

  /**
   * @internal Created by the middleware.
   * @param request what the session asks of the request it serves
   */
  constructor(runtime: SessionRuntime, request?: SessionRequest) {
    this.#rt = runtime
    this.#request = request
  }

  /**
   * @internal Opens the request's token: crypto only, no store call. Synchronous (no promise)
   * for a token this process opened before, the common case.
   */
  [kOpen](token: string): Promise<void> | undefined {
    const rt = this.#rt
    const now = rt.now()
    const opened = rt.tokens.get(token, now)
    if (!opened) return this.#openNew(token, now)
    this.#accept(token, opened.claims, opened.id)
    return undefined
  }

  async #openNew(token: string, now: number): Promise<void> {
    const rt = this.#rt
    const claims = await rt.ring.open(token, now)
    if (!claims) {
      this.#invalidToken = true
      rt.emit({ type: 'invalid-token' })
      return
    }
    const id = await secretToId(claims.sid)
    rt.tokens.set(token, claims, id)
    this.#accept(token, claims, id)
  }

  #accept(token: string, claims: TokenClaims, id: string): void {
    this.#token = token
    this.#claims = claims
    this.#key = { id, uid: claims.uid }
  }

  /** True when this request has no stored session to continue (none, invalid, gone or destroyed). */
  get isNew(): boolean {
    this.#touch()
    return this.#key === undefined || this.#gone
  }

  /**
   * The user the token names (no store call): a hint, not proof. The token may belong to a
   * session that was logged out, revoked or rotated away; `info()`, the guards and every
   * per-user member check the store. Undefined once the session is known to be gone.
   */
  get userId(): string | undefined {
    this.#touch()
    return this.#gone ? undefined : this.#key?.uid
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
    const base = await this.#load()
    const out: Record<string, unknown> = {}
    for (const [name, text] of Object.entries(base?.fields ?? {})) {
      if (!name.startsWith(FLASH_PREFIX) && !this.#changes.has(name)) out[name] = decode(text)
    }
    for (const [name, text] of this.#changes) {
      if (text !== null && !name.startsWith(FLASH_PREFIX)) out[name] = decode(text)
    }
    return out as Partial<Data>
  }

  /**
   * Sets one field; only changed fields reach the store. `undefined` deletes it.
   * @throws SessionLimitError (400) for a bad name or a value that is not JSON, (413) when too large
   */
  set<K extends keyof Data & string>(name: K, value: Data[K]): void {
    checkName(name)
    this.#write(name, value)
  }

  /** Deletes one field. */
  delete(name: keyof Data & string): void {
    checkName(name)
    this.#change(name, null)
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
   * @throws SessionLimitError (400) when `by` or the result is not a safe integer
   * @throws SessionStateError when the field holds something other than an integer
   */
  async increment(name: keyof Data & string, by = 1): Promise<number> {
    checkName(name)
    if (!Number.isSafeInteger(by))
      throw new SessionLimitError('increment needs a safe integer', 400)
    const atomic =
      !this.#rt.encryptAtRest && !this.#changes.has(name) && this.#key !== undefined && !this.#gone
    if (atomic) {
      // after any read already under way, so the fresher copy replaces it
      const earlier = this.#loading
      this.#touch()
      const request: IncrementRequest = { field: name, by }
      const fetched = earlier
        ? earlier.then(() => (this.#gone ? null : this.#fetch(request)))
        : this.#fetch(request)
      this.#loading = settled(fetched)
      const session = await fetched
      if (session) {
        if (request.refused)
          throw new SessionStateError(
            `session field "${name}" is not a safe integer, or would not be`,
          )
        return Number(session.fields[name])
      }
      // gone (or fail-open detached): counted as a change, like a set() on a new session
    }
    const current = await this.#read(name)
    const value = (current ?? 0) as number
    if (!Number.isSafeInteger(value))
      throw new SessionStateError(`session field "${name}" is not an integer`)
    if (!Number.isSafeInteger(value + by))
      throw new SessionLimitError(`session field "${name}" would not be a safe integer`, 400)
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
      if (v !== undefined) this.#change(field, null)
      return v
    })
  }

  /**
   * Issues a new secret when the response is sent: data kept, the old store entry deleted and
   * the old token dead at once (fixation defence).
   */
  regenerate(): void {
    this.#intent()
  }

  /**
   * Binds the session to a user: a new secret (the pre-login one stops working), the key moves
   * to the user's slot, roles and authentication methods recorded server-side, auth time = now.
   * Data of an anonymous session is kept; data of another user's session is not.
   */
  authenticate(userId: string, options: AuthenticateOptions = {}): void {
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
    const roles = checkList(options.roles ?? [], 'roles')
    const amr = checkMethods(options.amr ?? ['pwd'])
    this.#intent().authenticate = { uid: userId, roles, amr }
  }

  /**
   * Changes this session's roles; a privilege change regenerates the secret. Explicit roles win
   * over those of an `authenticate()` in the same request, whatever the order.
   */
  setRoles(roles: string[]): void {
    this.#intent().roles = checkList(roles, 'roles')
  }

  /**
   * Changes the roles of every live session of a user in one store call (an admin action); the
   * change takes effect on each session's next request.
   *
   * For the caller's own user the check that this session is live runs in the same store step,
   * and this session, one of those changed, also gets a new secret (as `setRoles` would, unless
   * the request binds it to another user). For another user, this session is first loaded (free
   * when a guard such as `requireRole` already did) and must be live: a separate step.
   * @returns how many sessions changed
   * @throws SessionRequiredError when this session is not live
   */
  async updateUserRoles(userId: string, roles: string[]): Promise<number> {
    const list = checkList(roles, 'roles')
    this.#touch()
    const own = this.#key?.uid
    if (own === userId) {
      const n = await this.#perUser('updateUser', (uid, actor) =>
        this.#rt.store.updateUser(uid, { roles: list }, actor.now, actor),
      )
      this.#intent().userRoles = { uid: userId, roles: list }
      return n
    }
    if (!(await this.#load()) || own === undefined) throw new SessionRequiredError()
    return this.#rt.call('updateUser', () =>
      this.#rt.store.updateUser(userId, { roles: list }, this.#rt.now()),
    )
  }

  /**
   * Records a completed second factor (e.g. `'otp'` after a TOTP check) of the user the request
   * came in with: the method joins `amr`, the auth time becomes now, and the secret is
   * regenerated (fixation defence). An `authenticate()` of another user in the same request
   * drops it (pass the methods checked at sign-in as `authenticate()`'s `amr` instead).
   */
  stepUp(method: string): void {
    checkMethods([method])
    const uid = this.#gone ? undefined : this.#key?.uid
    this.#intent().stepUps.push({ method, uid })
  }

  /**
   * A second factor was replaced or removed: `method` stops counting in every session of the
   * user (until a new step-up with it), the current one included unless `keepCurrent`. One
   * store call, run only while this session is live.
   * @returns how many sessions changed
   */
  async revokeMethod(method: string, options: { keepCurrent?: boolean } = {}): Promise<number> {
    checkMethods([method])
    const except = options.keepCurrent ? this.#key?.id : undefined
    const n = await this.#perUser('updateUser', (uid, actor) =>
      this.#rt.store.updateUser(uid, { revokeMethods: [method], except }, actor.now, actor),
    )
    if (!options.keepCurrent) {
      const base = this.#loading ? await this.#loading : null
      if (base?.meta.amr) base.meta.amr = base.meta.amr.filter((m) => m !== method)
      for (const s of this.#regen?.stepUps ?? []) if (s.method === method) s.uid = undefined
    }
    return n
  }

  /** The permissions granted by this session's roles through the `permissions` option. */
  async permissions(): Promise<Set<string>> {
    const out = new Set<string>()
    for (const role of (await this.info())?.roles ?? []) {
      for (const p of this.#rt.permissions.get(role) ?? []) out.add(p)
    }
    return out
  }

  /**
   * Counts an event for the signed-in user in a fixed window; `by = 0` only reads, a negative
   * `by` gives back. To enforce a limit use {@link reserve}: a count read first and checked
   * after lets parallel requests past the limit.
   * @returns the count in the current window
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async countEvent(name: string, windowMs: number, by = 1): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new SessionInputError('countEvent needs an integer')
    const res = await this.#perUser('hit', (uid, actor) =>
      this.#rt.store.hit(uid, name, { windowMs, by, actor }),
    )
    return res.count
  }

  /**
   * Takes one attempt from the signed-in user's budget of `limit` per fixed window, before the
   * attempt is made: counting and checking are one atomic store step, so however many requests
   * run in parallel, at most `limit` are allowed per window. Give a successful attempt back
   * with `countEvent(name, windowMs, -1)` when only failures should count.
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async reserve(
    name: string,
    options: { limit: number; windowMs: number },
  ): Promise<ReserveResult> {
    const { limit, windowMs } = options
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new SessionInputError('reserve needs a limit of 0 or more')
    const { count, allowed, resetMs } = await this.#perUser('hit', (uid, actor) =>
      this.#rt.store.hit(uid, name, { windowMs, limit, actor }),
    )
    return { allowed, count, resetMs }
  }

  /**
   * Marks `name` used for the signed-in user for `ttlMs`; false when it already was (replay).
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async claimOnce(name: string, ttlMs: number): Promise<boolean> {
    return this.#perUser('claim', (uid, actor) => this.#rt.store.claim(uid, name, ttlMs, actor))
  }

  /**
   * Reads a per-user secret kept in the store, sealed with the key ring; null when unset.
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async readUserSecret(name: string): Promise<string | null> {
    const sealed = await this.#perUser('getUserValue', (uid, actor) =>
      this.#rt.store.getUserValue(uid, name, actor),
    )
    return sealed === null ? null : this.#rt.ring.openValue(sealed)
  }

  /**
   * Stores (or with null, deletes) a per-user secret, sealed with the key ring.
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async writeUserSecret(name: string, value: string | null): Promise<void> {
    const sealed = value === null ? null : await this.#rt.ring.sealValue(value)
    await this.#perUser('setUserValue', (uid, actor) =>
      this.#rt.store.setUserValue(uid, name, sealed, actor),
    )
  }

  /** @internal */
  [kEmit](event: SessionEvent): void {
    this.#rt.emit(event)
  }

  /**
   * Runs a per-user store operation for this session's user, with this session as the actor
   * whose liveness the store checks in the same step. A session found dead is gone from then on.
   */
  async #perUser<T>(op: string, fn: (uid: string, actor: Actor) => Promise<T>): Promise<T> {
    this.#touch()
    const key = this.#key
    if (!key || key.uid === undefined || this.#gone) throw new SessionRequiredError()
    const uid = key.uid
    const actor: Actor = { id: key.id, now: this.#rt.now() }
    try {
      return await this.#rt.call(op, () => fn(uid, actor))
    } catch (err) {
      if (err instanceof SessionRequiredError) this.#gone = true
      throw err
    }
  }

  /** The middleware's clock (epoch milliseconds). */
  now(): number {
    return this.#rt.now()
  }

  /** Server-side facts about the session, or null when there is none. */
  async info(): Promise<SessionInfo | null> {
    const base = await this.#load()
    if (!base || !this.#key) return null
    const m = base.meta
    return {
      id: this.#key.id,
      userId: m.uid,
      roles: m.roles ?? [],
      authTime: m.authTime,
      amr: m.amr ?? [],
      createdAt: m.createdAt,
      expiresAt: this.#extendedTo ?? m.expiresAt,
      absoluteExpiresAt: m.absoluteExpiresAt,
    }
  }

  /** Ends the session: the store entry is deleted and the cookie cleared. Later writes start a new one. */
  destroy(): void {
    if (this.#key) this.#destroyKey = this.#key
    this.#forget()
  }

  /**
   * The user's sessions ("my devices"), the current one marked.
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async listSessions(): Promise<(Omit<SessionSummary, 'revokedMethods'> & { current: boolean })[]> {
    const list = await this.#perUser('listUser', (uid, actor) =>
      this.#rt.store.listUser(uid, actor.now, actor),
    )
    const current = this.#key?.id
    return Promise.all(
      list.map(async ({ revokedMethods, ...s }) => {
        const { client, amr } = await this.#openMeta(s.client, s.amr, revokedMethods)
        return { ...s, client, amr, current: s.id === current }
      }),
    )
  }

  /**
   * Revokes one of the user's sessions by its id (from `listSessions`).
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async revoke(id: string): Promise<void> {
    this.#touch()
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(id))
      throw new SessionLimitError('invalid session id', 400)
    if (id === this.#key?.id && !this.#gone) return this.destroy()
    const uid = await this.#perUser('destroy', (uid, actor) =>
      this.#rt.store.destroy({ id, uid }, actor).then(() => uid),
    )
    this.#rt.emit({ type: 'destroyed', id, uid, reason: 'revoked' })
  }

  /**
   * Log out everywhere: deletes every session of the user, this one included, atomically.
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async destroyAll(): Promise<number> {
    const id = this.#key?.id
    const { n, uid } = await this.#perUser('destroyUser', async (uid, actor) => ({
      n: await this.#rt.store.destroyUser(uid, actor.now, { actor }),
      uid,
    }))
    this.#rt.emit({ type: 'destroyed', id: id!, uid, reason: 'logout-all' })
    this.#forget()
    return n
  }

  /**
   * Logs out every other session of the user (after a password change, OWASP's renewal on
   * privilege change) and gives this one a new secret when the response is sent.
   * @returns how many other sessions were live
   * @throws SessionRequiredError unless this session is live (checked in the same store step)
   */
  async destroyOthers(): Promise<number> {
    this.#touch()
    // a load first: through a rotation alias, the session to keep is the one it points to
    if (!(await this.#load())) throw new SessionRequiredError()
    const keep = this.#key!.id
    const { n, uid } = await this.#perUser('destroyUser', async (uid, actor) => ({
      n: await this.#rt.store.destroyUser(uid, actor.now, { actor, except: keep }),
      uid,
    }))
    this.#rt.emit({ type: 'destroyed', id: keep, uid, reason: 'logout-others' })
    this.regenerate()
    return n
  }

  /**
   * @internal Writes what changed; returns what to do with the cookie. Synchronous when there
   * is nothing to write (most requests).
   */
  [kFinish](): Outcome | Promise<Outcome> {
    if (
      this.#detached ||
      this.#destroyKey ||
      this.#regen ||
      this.#rotateDue ||
      this.#changes.size > 0
    ) {
      return this.#finishWrites()
    }
    return { cookie: this.#cookieAfter(), touched: this.#used }
  }

  async #finishWrites(): Promise<Outcome> {
    const touched = this.#used
    if (this.#detached) {
      // fail-open served this request as anonymous because the store failed: a write (or a
      // logout) cannot be honoured, and answering 200 would claim it was.
      if (this.#changes.size > 0 || this.#regen || this.#destroyKey || this.#clearCookie) {
        throw new StoreError('session store unavailable: the change was not saved')
      }
      return { cookie: { kind: 'none' }, touched }
    }
    const destroyKey = this.#destroyKey
    if (destroyKey) {
      await this.#rt.call('destroy', () => this.#rt.store.destroy(destroyKey))
      this.#rt.emit({ type: 'destroyed', id: destroyKey.id, uid: destroyKey.uid, reason: 'logout' })
    }
    if (this.#regen) return { cookie: await this.#regenerateNow(this.#regen), touched: true }
    if (this.#rotateDue && this.#key && !this.#gone) {
      const rotated = await this.#rotateNow(this.#key)
      if (rotated) return { cookie: rotated, touched: true }
    }
    if (this.#changes.size > 0) {
      if (this.#key && !this.#gone) {
        const written = await this.#commitPatch(this.#key)
        if (written) return { cookie: written, touched: true }
        this.#gone = true
      }
      if ([...this.#changes.values()].some((v) => v !== null)) {
        return { cookie: await this.#createSession(null, undefined), touched: true }
      }
    }
    return { cookie: this.#cookieAfter(), touched }
  }

  /** The cookie when nothing was (or remains to be) written: re-sent when extended. */
  #cookieAfter(): CookieAction {
    // A request holding a rotated-away token must not overwrite the newer cookie.
    if (this.#aliased) return { kind: 'none' }
    if (this.#extendedTo !== undefined && this.#token && this.#claims) {
      const now = this.#rt.now()
      return {
        kind: 'set',
        token: this.#token,
        maxAge: maxAgeSeconds(now, this.#extendedTo, this.#claims.exp * 1000),
      }
    }
    if ((this.#gone && this.#token) || this.#invalidToken || this.#clearCookie)
      return { kind: 'clear' }
    return { kind: 'none' }
  }

  async #commitPatch(key: SessionKey): Promise<CookieAction | null> {
    const rt = this.#rt
    const now = rt.now()
    const base = this.#loading ? await this.#loading : null // settled first: it may follow an alias
    // The session was read: a write past the limit is refused without a store call. The store
    // checks again (writes made without a read, concurrent writes), counting stored bytes.
    if (base) this.#checkTotal(base.fields)
    const abs = this.#claims!.exp * 1000
    const patch = await this.#patch(this.#claims!.dk)
    // the store checks the size of the result: writes made without a read are bounded too
    const ext = { ...extension(now, abs, rt.policy), maxDataBytes: rt.limits.maxSessionBytes }
    let res = await rt.call('commit', () => rt.store.commit(key, patch, ext))
    if (isMoved(res)) {
      const target = this.#follow(res.movedTo)
      const again = await rt.call('commit', () => rt.store.commit(target, patch, ext))
      res = isMoved(again) ? null : again
    }
    if (!res) {
      rt.emit({ type: 'expired', id: key.id })
      return null
    }
    if (!res.extended || this.#aliased) return { kind: 'none' }
    return { kind: 'set', token: this.#token!, maxAge: maxAgeSeconds(now, res.expiresAt, abs) }
  }

  async #regenerateNow(regen: Regeneration): Promise<CookieAction> {
    const rt = this.#rt
    const now = rt.now()
    const oldKey = this.#gone ? undefined : this.#key
    let base: StoredSession | null = null
    let replace: SessionKey | undefined
    if (oldKey && (this.#loading || this.#changes.size > 0)) {
      // With changes pending the new entry may still be refused (size limits): read without
      // deleting, and let the creation replace the old entry only once it succeeds.
      base = await this.#load()
      if (base) replace = this.#key
    } else if (oldKey) {
      // Not read yet: read and delete in one step, so the move costs one call, not two.
      const ext = extension(now, this.#claims!.exp * 1000, rt.policy)
      const take = (key: SessionKey) =>
        rt.call('load', () => rt.store.load(key, { ...ext, consume: true }))
      let res = await take(oldKey)
      if (isMoved(res)) {
        const moved = await take(this.#follow(res.movedTo))
        res = isMoved(moved) ? null : moved
      }
      base = res ? await this.#opened(res.session, this.#claims!.dk) : null
    }
    const auth = regen.authenticate
    if (auth && base?.meta.uid !== undefined && base.meta.uid !== auth.uid) base = null
    return this.#createSession(base, regen, replace, oldKey)
  }

  /** Writes a brand-new entry under a new secret and returns the cookie for it. */
  async #createSession(
    base: StoredSession | null,
    regen: Regeneration | undefined,
    replace?: SessionKey,
    previous?: SessionKey,
  ): Promise<CookieAction> {
    const rt = this.#rt
    const now = rt.now()
    const auth = regen?.authenticate
    const fields: Record<string, string> = { ...base?.fields }
    for (const [name, text] of this.#changes) {
      if (text === null) delete fields[name]
      else fields[name] = text
    }
    const fresh = initialDeadlines(now, rt.policy)
    const keep = base && !auth ? base.meta : undefined
    const uid = auth?.uid ?? keep?.uid
    const absoluteExpiresAt = keep?.absoluteExpiresAt ?? fresh.absoluteExpiresAt
    const stepUps = (regen?.stepUps ?? []).filter((s) => s.uid !== undefined && s.uid === uid)
    const userRoles = regen?.userRoles?.uid === uid ? regen?.userRoles?.roles : undefined
    const meta: SessionMeta = {
      createdAt: keep?.createdAt ?? now,
      absoluteExpiresAt,
      expiresAt: Math.min(now + rt.policy.idleMs, absoluteExpiresAt),
      lastSeenAt: now,
      uid,
      roles: regen?.roles ?? userRoles ?? auth?.roles ?? keep?.roles,
      authTime: auth || stepUps.length > 0 ? now : keep?.authTime,
      amr: withMethods(
        auth?.amr ?? keep?.amr,
        stepUps.map((s) => s.method),
      ),
      rotatedAt: regen ? now : undefined,
      client: this.#request?.userAgent() ?? keep?.client,
    }
    const sid = newSecret()
    const dk = rt.encryptAtRest ? newSecret() : undefined
    const key: SessionKey = { id: await secretToId(sid), uid: meta.uid }
    const sealed = await this.#seal(fields, dk)
    // the limit counts what is stored (sealed values with encryptAtRest), as the store does
    if (dataBytes(sealed) > rt.limits.maxSessionBytes) {
      throw new SessionLimitError(`session data exceeds ${rt.limits.maxSessionBytes} bytes`)
    }
    const stored = rt.encryptAtRest ? await this.#sealMeta(meta) : meta
    const result = await rt.call('create', () =>
      rt.store.create(
        key,
        { fields: sealed, meta: stored },
        { now, replace, maxSessionsPerUser: rt.maxSessionsPerUser },
      ),
    )
    if (result.evicted.length > 0 && key.uid !== undefined) {
      rt.emit({ type: 'evicted', ids: result.evicted, uid: key.uid })
    }
    if (auth) rt.emit({ type: 'authenticated', id: key.id, uid: auth.uid })
    else if (previous)
      rt.emit({ type: 'rotated', id: key.id, previousId: previous.id, uid: key.uid })
    else rt.emit({ type: 'created', id: key.id, uid: key.uid })
    const token = await rt.ring.seal({
      sid,
      iat: Math.floor(now / 1000),
      exp: absoluteExpiresAt / 1000,
      ...(meta.uid !== undefined && { uid: meta.uid }),
      ...(meta.authTime !== undefined && { auth_time: Math.floor(meta.authTime / 1000) }),
      ...(meta.amr !== undefined && { amr: meta.amr }),
      ...(dk !== undefined && { dk }),
    })
    return { kind: 'set', token, maxAge: maxAgeSeconds(now, meta.expiresAt, absoluteExpiresAt) }
  }

  /**
   * Periodic rotation: the store moves the entry to a new secret's key and leaves the old key
   * as an alias for the grace window, with this request's changes applied in the same step.
   * @returns the new cookie, or null when the caller should fall back to a plain commit
   */
  async #rotateNow(from: SessionKey): Promise<CookieAction | null> {
    const rt = this.#rt
    const now = rt.now()
    const claims = this.#claims!
    const abs = claims.exp * 1000
    const sid = newSecret()
    const to: SessionKey = { id: await secretToId(sid), uid: from.uid }
    const patch = await this.#patch(claims.dk)
    const options = {
      ...extension(now, abs, rt.policy),
      graceMs: rt.rotationGraceMs,
      maxDataBytes: rt.limits.maxSessionBytes,
    }
    const res = await rt.call('rotate', () => rt.store.rotate(from, to, patch, options))
    if (res === null || isMoved(res)) return null // gone, or another request rotated it first
    this.#changes.clear()
    rt.emit({ type: 'rotated', id: to.id, previousId: from.id, uid: from.uid })
    const token = await rt.ring.seal({ ...claims, sid, iat: Math.floor(now / 1000) })
    return { kind: 'set', token, maxAge: maxAgeSeconds(now, res.expiresAt, abs) }
  }

  /** This request's field changes as a store patch, sealed when encrypting at rest. */
  async #patch(dk: string | undefined): Promise<{ set: Record<string, string>; del: string[] }> {
    const patch = { set: {} as Record<string, string>, del: [] as string[] }
    for (const [name, text] of this.#changes) {
      if (text === null) patch.del.push(name)
      else patch.set[name] = text
    }
    patch.set = await this.#seal(patch.set, dk)
    return patch
  }

  /** Continues with the entry a rotation alias points to. */
  #follow(movedTo: string): SessionKey {
    this.#aliased = true
    this.#key = { id: movedTo, uid: this.#key?.uid }
    return this.#key
  }

  /**
   * Refuses (413) when this request's changes grow `fields` past `maxSessionBytes`, by the rule
   * the stores apply (a write that does not grow a session already over the limit goes through).
   */
  #checkTotal(fields: Record<string, string>): void {
    const merged: Record<string, string> = { ...fields }
    for (const [name, text] of this.#changes) {
      if (text === null) delete merged[name]
      else merged[name] = text
    }
    const max = this.#rt.limits.maxSessionBytes
    const after = dataBytes(merged)
    if (after > max && after > dataBytes(fields))
      throw new SessionLimitError(`session data exceeds ${max} bytes`)
  }

  /** Seals field values for the store when at-rest encryption is on. */
  async #seal(
    fields: Record<string, string>,
    dk: string | undefined,
  ): Promise<Record<string, string>> {
    if (!this.#rt.encryptAtRest) return fields
    if (dk === undefined)
      throw new SessionStateError('encryptAtRest: the token carries no data key')
    const cipher = await fieldCipher(dk)
    const out: Record<string, string> = {}
    for (const [name, text] of Object.entries(fields)) out[name] = await cipher.seal(name, text)
    return out
  }

  /**
   * A loaded session as the rest of the request sees it: values opened when encrypting at rest
   * (a value not sealed under this session's key is dropped), the client hint and methods
   * opened, and revoked methods taken out of `amr`.
   */
  async #opened(session: StoredSession, dk: string | undefined): Promise<StoredSession> {
    const { revokedMethods, ...rest } = session.meta
    const { client, amr } = await this.#openMeta(rest.client, rest.amr, revokedMethods)
    const meta: SessionMeta = { ...rest, client, amr }
    if (!this.#rt.encryptAtRest) return { fields: session.fields, meta }
    // A token minted before encryption was turned on has no data key: its values are unreadable.
    if (dk === undefined) return { fields: {}, meta }
    const cipher = await fieldCipher(dk)
    const fields: Record<string, string> = {}
    for (const [name, sealed] of Object.entries(session.fields)) {
      const text = await cipher.open(name, sealed)
      if (text !== undefined) fields[name] = text
    }
    return { fields, meta }
  }

  /**
   * With `encryptAtRest` the client hint and the methods are sealed with the key ring, not the
   * session's own key: "my devices" lists them for every session of the user, and a dump of
   * the store still shows neither. The methods travel as a one-element list of the sealed text.
   */
  async #sealMeta(meta: SessionMeta): Promise<SessionMeta> {
    const ring = this.#rt.ring
    return {
      ...meta,
      client: meta.client === undefined ? undefined : await ring.sealValue(meta.client),
      amr: meta.amr === undefined ? undefined : [await ring.sealValue(JSON.stringify(meta.amr))],
    }
  }

  /** The client hint and the methods that count, from what the store holds (see #sealMeta). */
  async #openMeta(
    client: string | undefined,
    amr: string[] | undefined,
    revoked: string[] | undefined,
  ): Promise<{ client: string | undefined; amr: string[] | undefined }> {
    if (this.#rt.encryptAtRest) {
      const ring = this.#rt.ring
      client = client === undefined ? undefined : ((await ring.openValue(client)) ?? undefined)
      const text = amr?.length === 1 ? await ring.openValue(amr[0]!) : null
      amr = text === null ? undefined : methodList(text)
    }
    if (revoked && amr) amr = amr.filter((m) => !revoked.includes(m))
    return { client, amr }
  }

  /** The request's regeneration, started by the first intent (see {@link Regeneration}). */
  #intent(): Regeneration {
    this.#touch()
    return (this.#regen ??= { stepUps: [] })
  }

  #forget(): void {
    this.#touch()
    this.#key = undefined
    this.#loading = Promise.resolve(null)
    this.#extendedTo = undefined
    this.#changes.clear()
    this.#regen = undefined
    this.#clearCookie = true
  }

  #read(field: string): Promise<unknown> {
    const change = this.#changes.get(field)
    if (change !== undefined) return Promise.resolve(change === null ? undefined : decode(change))
    return this.#load().then((base) => {
      // own fields only: a name like "toString" must not find Object.prototype's
      const text = base && Object.hasOwn(base.fields, field) ? base.fields[field] : undefined
      return text === undefined ? undefined : decode(text)
    })
  }

  #write(field: string, value: unknown): void {
    if (value === undefined) {
      this.#change(field, null)
      return
    }
    let text: string | undefined
    try {
      text = JSON.stringify(value)
    } catch {
      text = undefined
    }
    if (text === undefined)
      throw new SessionLimitError(`session field "${field}" is not JSON-serialisable`, 400)
    const { maxFieldBytes } = this.#rt.limits
    if (utf8Length(field) + utf8Length(text) > maxFieldBytes) {
      throw new SessionLimitError(`session field "${field}" exceeds ${maxFieldBytes} bytes`)
    }
    this.#change(field, text)
  }

  #change(field: string, text: string | null): void {
    this.#touch()
    this.#changes.set(field, text)
  }

  #touch(): void {
    if (this.#used) return
    this.#used = true
    this.#request?.used()
  }

  #load(): Promise<StoredSession | null> {
    if (!this.#loading) {
      this.#touch()
      this.#loading = settled(this.#fetch())
    }
    return this.#loading
  }

  /**
   * Loads (and with `increment`, adds to a field in the same store call, recording in it
   * whether the store refused); null when gone.
   */
  async #fetch(increment?: IncrementRequest): Promise<StoredSession | null> {
    const key = this.#key
    if (!key || !this.#claims) return null
    const rt = this.#rt
    const now = rt.now()
    const options: LoadOptions = extension(now, this.#claims.exp * 1000, rt.policy)
    if (increment) {
      options.increment = { field: increment.field, by: increment.by }
      options.maxDataBytes = rt.limits.maxSessionBytes
    }
    try {
      let res = await rt.call('load', () => rt.store.load(key, options))
      if (isMoved(res)) {
        const target = this.#follow(res.movedTo)
        const moved = await rt.call('load', () => rt.store.load(target, options))
        res = isMoved(moved) ? null : moved
      }
      if (!res) {
        this.#gone = true
        rt.emit({ type: 'expired', id: key.id })
        return null
      }
      if (res.extended) this.#extendedTo = res.session.meta.expiresAt
      const meta = res.session.meta
      this.#rotateDue =
        rt.rotateEveryMs > 0 &&
        !this.#aliased &&
        meta.uid !== undefined &&
        now - (meta.rotatedAt ?? meta.createdAt) >= rt.rotateEveryMs
      if (increment) increment.refused = res.incrementRefused === true
      const stored = res.session
      // not awaited in the common case (nothing sealed, nothing revoked): the read is the hot path
      return rt.encryptAtRest || stored.meta.revokedMethods !== undefined
        ? await this.#opened(stored, this.#claims.dk)
        : stored
    } catch (err) {
      if (err instanceof PoisonedSessionError) {
        this.#gone = true
        return null
      }
      if (!rt.failOpen || isRefusal(err)) throw err
      // fail-open: serve this request as anonymous and leave the stored session and cookie alone.
      this.#detached = true
      this.#gone = true
      return null
    }
  }
}

/** An atomic increment asked of the store; `refused` is filled in by the load. */
interface IncrementRequest {
  field: string
  by: number
  refused?: boolean
}

/** The same promise, marked handled: a failed load that nobody awaits must not crash Node. */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {})
  return promise
}

function checkName(name: string): void {
  const bad = nameError(name)
  if (bad) throw bad
}

/** The error for a field name the API refuses, or undefined for a good one. */
function nameError(name: string): SessionLimitError | undefined {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > FIELD_NAME_MAX ||
    name.startsWith(RESERVED_PREFIX) ||
    // assigning it to a plain object sets the prototype instead: the value would be lost
    name === '__proto__'
  ) {
    return new SessionLimitError(
      `session field names must be 1 to ${FIELD_NAME_MAX} characters, not start with "${RESERVED_PREFIX}" and not be "__proto__"`,
      400,
    )
  }
  return undefined
}

/**
 * Authentication methods travel in the token, so they are bounded tightly: with a uid of at most
 * 256 characters the cookie stays far below the 4 KiB browsers keep (about 1.3 KiB at most).
 */
function checkMethods(list: unknown): string[] {
  if (
    !Array.isArray(list) ||
    list.length > 8 ||
    !list.every((m) => typeof m === 'string' && /^[a-z0-9_-]{1,32}$/.test(m))
  ) {
    throw new SessionStateError(
      'authentication methods must be at most 8 names of [a-z0-9_-]{1,32}',
    )
  }
  return [...list]
}

function checkList(list: unknown, what: string): string[] {
  if (
    !Array.isArray(list) ||
    list.length > 64 ||
    !list.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 64)
  ) {
    throw new SessionStateError(`${what} must be a list of at most 64 non-empty strings`)
  }
  return [...list]
}

function withMethods(amr: string[] | undefined, methods: string[]): string[] | undefined {
  let out = amr
  for (const m of methods) if (!out?.includes(m)) out = [...(out ?? []), m]
  return out
}

/** Methods opened from their sealed JSON text; an unreadable list counts as none. */
function methodList(text: string): string[] | undefined {
  try {
    const list: unknown = JSON.parse(text)
    if (Array.isArray(list) && list.every((m) => typeof m === 'string')) return list
  } catch {
    // not ours
  }
  return undefined
}

function decode(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // A value edited by hand in the store: treat it as absent rather than crash the request.
    return undefined
  }
}
