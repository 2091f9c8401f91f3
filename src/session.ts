import { fieldCipher } from './at-rest.js'
import { SessionLimitError, SessionStateError, StoreError } from './errors.js'
import { extension, initialDeadlines, maxAgeSeconds } from './expiry.js'
import type { SessionEvent } from './events.js'
import type { SessionRuntime } from './runtime.js'
import { FLASH_PREFIX, PoisonedSessionError } from './store/codec.js'
import {
  RESERVED_PREFIX,
  isMoved,
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

interface Regeneration {
  authenticate?: { uid: string; roles: string[]; amr: string[] }
  roles?: string[]
  /** A second factor just completed (an `amr` value such as `otp`). */
  stepUp?: string
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
    return this.#key === undefined || this.#gone
  }

  /** The authenticated user, from the token (no store call). Use `info()` for server-side roles. */
  get userId(): string | undefined {
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
    this.#touch()
    this.#regen ??= {}
  }

  /**
   * Binds the session to a user: a new secret (the pre-login one stops working), the key moves
   * to the user's slot, roles and authentication methods recorded server-side, auth time = now.
   * Data of an anonymous session is kept; data of another user's session is not.
   */
  authenticate(userId: string, options: AuthenticateOptions = {}): void {
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
      throw new SessionStateError('authenticate() needs a user id of 1 to 256 characters')
    }
    const roles = checkList(options.roles ?? [], 'roles')
    const amr = checkMethods(options.amr ?? ['pwd'])
    this.#touch()
    this.#regen = { authenticate: { uid: userId, roles, amr } }
  }

  /** Changes this session's roles; a privilege change regenerates the secret. */
  setRoles(roles: string[]): void {
    const list = checkList(roles, 'roles')
    this.#touch()
    this.#regen = { ...this.#regen, roles: list }
  }

  /**
   * Changes the roles of every live session of a user in one store call (an admin action); the
   * change takes effect on each session's next request. Changing the caller's own roles also
   * regenerates the caller's secret.
   * @returns how many sessions changed
   */
  async updateUserRoles(userId: string, roles: string[]): Promise<number> {
    const list = checkList(roles, 'roles')
    const n = await this.#rt.call('updateUser', () =>
      this.#rt.store.updateUser(userId, { roles: list }, this.#rt.now()),
    )
    if (userId === this.userId) this.setRoles(list)
    return n
  }

  /**
   * Records a completed second factor (e.g. `'otp'` after a TOTP check): the method joins `amr`,
   * the auth time becomes now, and the secret is regenerated (fixation defence).
   */
  stepUp(method: string): void {
    checkMethods([method])
    this.#touch()
    this.#regen = { ...this.#regen, stepUp: method }
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
   * Counts an event for the signed-in user in a fixed window (rate limits); `by = 0` only reads.
   * @returns the count in the current window
   */
  async countEvent(name: string, windowMs: number, by = 1): Promise<number> {
    const uid = this.#requireUser()
    return this.#rt.call('hit', () => this.#rt.store.hit(uid, name, windowMs, by))
  }

  /** Marks `name` used for the signed-in user for `ttlMs`; false when it already was (replay). */
  async claimOnce(name: string, ttlMs: number): Promise<boolean> {
    const uid = this.#requireUser()
    return this.#rt.call('claim', () => this.#rt.store.claim(uid, name, ttlMs))
  }

  /** Reads a per-user secret kept in the store, sealed with the key ring; null when unset. */
  async readUserSecret(name: string): Promise<string | null> {
    const uid = this.#requireUser()
    const sealed = await this.#rt.call('getUserValue', () => this.#rt.store.getUserValue(uid, name))
    return sealed === null ? null : this.#rt.ring.openValue(sealed)
  }

  /** Stores (or with null, deletes) a per-user secret, sealed with the key ring. */
  async writeUserSecret(name: string, value: string | null): Promise<void> {
    const uid = this.#requireUser()
    const sealed = value === null ? null : await this.#rt.ring.sealValue(value)
    await this.#rt.call('setUserValue', () => this.#rt.store.setUserValue(uid, name, sealed))
  }

  /** @internal */
  [kEmit](event: SessionEvent): void {
    this.#rt.emit(event)
  }

  #requireUser(): string {
    const uid = this.userId
    if (uid === undefined) throw new SessionStateError('this needs an authenticated session')
    return uid
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

  /** The user's sessions ("my devices"), the current one marked. Empty when anonymous. */
  async listSessions(): Promise<(SessionSummary & { current: boolean })[]> {
    const uid = this.userId
    if (uid === undefined) return []
    const list = await this.#rt.call('listUser', () => this.#rt.store.listUser(uid, this.#rt.now()))
    return list.map((s) => ({ ...s, current: s.id === this.#key?.id }))
  }

  /** Revokes one of the user's sessions by its id (from `listSessions`). */
  async revoke(id: string): Promise<void> {
    const key = this.#key
    if (!key || key.uid === undefined || this.#gone)
      throw new SessionStateError('revoke() needs an authenticated session')
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) throw new SessionLimitError('invalid session id', 400)
    if (id === key.id) return this.destroy()
    await this.#rt.call('destroy', () => this.#rt.store.destroy({ id, uid: key.uid }))
    this.#rt.emit({ type: 'destroyed', id, uid: key.uid, reason: 'revoked' })
  }

  /** Log out everywhere: deletes every session of the user, this one included, atomically. */
  async destroyAll(): Promise<number> {
    const uid = this.userId
    if (uid === undefined) return 0
    const n = await this.#rt.call('destroyUser', () =>
      this.#rt.store.destroyUser(uid, this.#rt.now()),
    )
    this.#rt.emit({ type: 'destroyed', id: this.#key!.id, uid, reason: 'logout-all' })
    this.#forget()
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
    const base = this.#loading ? await this.#loading : undefined
    if (base) {
      const merged: Record<string, string> = { ...base.fields }
      for (const [name, text] of this.#changes) {
        if (text === null) delete merged[name]
        else merged[name] = text
      }
      this.#checkTotal(merged, [])
    }
    const abs = this.#claims!.exp * 1000
    const patch = await this.#patch(this.#claims!.dk)
    const ext = extension(now, abs, rt.policy)
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
      base = res ? await this.#open(res.session, this.#claims!.dk) : null
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
    this.#checkTotal(fields, [])
    const fresh = initialDeadlines(now, rt.policy)
    const keep = base && !auth ? base.meta : undefined
    const absoluteExpiresAt = keep?.absoluteExpiresAt ?? fresh.absoluteExpiresAt
    const meta: SessionMeta = {
      createdAt: keep?.createdAt ?? now,
      absoluteExpiresAt,
      expiresAt: Math.min(now + rt.policy.idleMs, absoluteExpiresAt),
      lastSeenAt: now,
      uid: auth?.uid ?? keep?.uid,
      roles: regen?.roles ?? auth?.roles ?? keep?.roles,
      authTime: auth || regen?.stepUp ? now : keep?.authTime,
      amr: withMethod(auth?.amr ?? keep?.amr, regen?.stepUp),
      rotatedAt: regen ? now : undefined,
      client: this.#request?.userAgent() ?? keep?.client,
    }
    const sid = newSecret()
    const dk = rt.encryptAtRest ? newSecret() : undefined
    const key: SessionKey = { id: await secretToId(sid), uid: meta.uid }
    const sealed = await this.#seal(fields, dk)
    const result = await rt.call('create', () =>
      rt.store.create(
        key,
        { fields: sealed, meta },
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
    const options = { ...extension(now, abs, rt.policy), graceMs: rt.rotationGraceMs }
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

  #checkTotal(fields: Record<string, string>, deleted: string[]): void {
    let total = 0
    for (const [name, text] of Object.entries(fields)) {
      if (!deleted.includes(name)) total += utf8Length(name) + utf8Length(text)
    }
    if (total > this.#rt.limits.maxSessionBytes) {
      throw new SessionLimitError(`session data exceeds ${this.#rt.limits.maxSessionBytes} bytes`)
    }
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

  /** Opens sealed values; a value that is not sealed under this session's key is dropped. */
  async #open(session: StoredSession, dk: string | undefined): Promise<StoredSession> {
    if (!this.#rt.encryptAtRest) return session
    // A token minted before encryption was turned on has no data key: its values are unreadable.
    if (dk === undefined) return { ...session, fields: {} }
    const cipher = await fieldCipher(dk)
    const fields: Record<string, string> = {}
    for (const [name, sealed] of Object.entries(session.fields)) {
      const text = await cipher.open(name, sealed)
      if (text !== undefined) fields[name] = text
    }
    return { ...session, fields }
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
    if (increment) options.increment = { field: increment.field, by: increment.by }
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
      return rt.encryptAtRest ? await this.#open(res.session, this.#claims.dk) : res.session
    } catch (err) {
      if (err instanceof PoisonedSessionError) {
        this.#gone = true
        return null
      }
      if (!rt.failOpen) throw err
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

function withMethod(amr: string[] | undefined, method: string | undefined): string[] | undefined {
  if (method === undefined || amr?.includes(method)) return amr
  return [...(amr ?? []), method]
}

function decode(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // A value edited by hand in the store: treat it as absent rather than crash the request.
    return undefined
  }
}

function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x80) bytes += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1
  }
  return bytes
}
