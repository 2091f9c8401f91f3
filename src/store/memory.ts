import { SessionRequiredError } from '../errors.js'
import { UserItems } from './memory-items.js'
import { RateCounters } from './memory-rate.js'
import { addTo, checkSize, clone, extend, itemKey, type Entry } from './memory-rules.js'
import { sessionKeyName } from './redis/layout.js'
import type {
  Actor,
  CommitOptions,
  CommitResult,
  CreateOptions,
  CreateResult,
  DestroyUserOptions,
  ExtendOptions,
  HitOptions,
  HitResult,
  LoadOptions,
  LoadResult,
  MovedResult,
  RateHitOptions,
  RotateOptions,
  SessionKey,
  SessionPatch,
  SessionSummary,
  Store,
  StoreHealth,
  StoredSession,
  UserChange,
} from './types.js'

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most sessions kept. Beyond it the oldest anonymous session (or rotation alias) is evicted
   * first; a signed-in session is evicted only when none is left, and only to make room for
   * another signed-in one (a new anonymous session is then not kept). Default 10000.
   */
  maxSessions?: number
  /** Entries examined for expiry per store call (the sweep never blocks). Default 64. */
  sweepBatch?: number
  /** Most rate limit windows kept (`rateHit`); past it the oldest goes. Default 100000. */
  maxRateKeys?: number
}

/**
 * An in-process store for development, tests and single-instance apps. Expiry is real (checked
 * against the caller's clock on every access and swept incrementally), size is bounded, and it
 * keeps the same per-user index semantics as the Redis stores. On Workers it is per isolate.
 *
 * @example
 * ```ts
 * import { memoryStore } from 'hono-redis-session/memory'
 * app.use(session({ store: memoryStore(), keys }))
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  return new MemoryStore(options)
}

class MemoryStore implements Store {
  /** In-process: no call waits on I/O, so the middleware needs no timer around it. */
  readonly timeoutMs = 0
  readonly #entries = new Map<string, Entry>()
  /** Names of anonymous entries and rotation aliases, oldest first: evicted before any user's. */
  readonly #evictFirst = new Set<string>()
  readonly #users = new Map<string, Map<string, number>>()
  readonly #items = new UserItems()
  readonly #rates: RateCounters
  readonly #max: number
  readonly #sweepBatch: number
  #cursor: Iterator<[string, Entry]> | undefined

  constructor({ maxSessions = 10_000, sweepBatch = 64, maxRateKeys }: MemoryStoreOptions) {
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new Error('Memory store option "maxSessions" must be a positive integer')
    }
    this.#max = maxSessions
    this.#sweepBatch = sweepBatch
    this.#rates = new RateCounters(maxRateKeys, sweepBatch)
  }

  async load(key: SessionKey, options: LoadOptions): Promise<LoadResult | MovedResult | null> {
    this.#sweep(options.now)
    const entry = this.#live(key, options.now)
    if (!entry) return null
    if (entry.movedTo !== undefined) return { movedTo: entry.movedTo }
    const refused =
      options.increment &&
      !options.consume &&
      !addTo(entry.session.fields, options.increment, options.maxDataBytes)
    const extended = extend(entry.session, options)
    if (extended) this.#index(entry)
    const session = clone(entry.session)
    if (options.consume) this.#delete(sessionKeyName('', key))
    return refused ? { session, extended, incrementRefused: true } : { session, extended }
  }

  async create(
    key: SessionKey,
    session: StoredSession,
    options: CreateOptions,
  ): Promise<CreateResult> {
    this.#sweep(options.now)
    const name = sessionKeyName('', key)
    if (this.#entries.has(name)) throw new Error('session id collision')
    if (options.replace) this.#delete(sessionKeyName('', options.replace))
    // An anonymous flood must not push signed-in users out: it is simply not kept.
    if (!this.#makeRoom(key.uid !== undefined)) return { evicted: [] }
    const entry: Entry = { key: { ...key }, session: clone(session) }
    this.#insert(name, entry)
    return { evicted: this.#index(entry, options.maxSessionsPerUser) }
  }

  async commit(
    key: SessionKey,
    patch: SessionPatch,
    options: CommitOptions,
  ): Promise<CommitResult | MovedResult | null> {
    this.#sweep(options.now)
    const entry = this.#live(key, options.now)
    if (!entry) return null
    if (entry.movedTo !== undefined) return { movedTo: entry.movedTo }
    checkSize(entry.session.fields, patch, options.maxDataBytes)
    return this.#apply(entry, patch, options)
  }

  #apply(entry: Entry, patch: SessionPatch, options: ExtendOptions): CommitResult {
    const { fields, meta } = entry.session
    for (const [name, value] of Object.entries(patch.set)) fields[name] = value
    for (const name of patch.del) delete fields[name]
    for (const [name, value] of Object.entries(patch.meta ?? {})) {
      if (value !== undefined)
        (meta as unknown as Record<string, unknown>)[name] = structuredClone(value)
    }
    meta.lastSeenAt = options.now
    const extended = extend(entry.session, options)
    if (extended) this.#index(entry)
    return { expiresAt: meta.expiresAt, extended }
  }

  async rotate(
    from: SessionKey,
    to: SessionKey,
    patch: SessionPatch,
    options: RotateOptions,
  ): Promise<CommitResult | MovedResult | null> {
    this.#sweep(options.now)
    const entry = this.#live(from, options.now)
    if (!entry) return null
    if (entry.movedTo !== undefined) return { movedTo: entry.movedTo }
    const fromName = sessionKeyName('', from)
    if (this.#entries.has(sessionKeyName('', to))) throw new Error('session id collision')
    checkSize(entry.session.fields, patch, options.maxDataBytes)
    this.#delete(fromName)
    const moved: Entry = { key: { ...to }, session: entry.session }
    moved.session.meta.rotatedAt = options.now
    this.#insert(sessionKeyName('', to), moved)
    const result = this.#apply(moved, patch, options)
    this.#index(moved)
    const aliasUntil = Math.min(options.now + options.graceMs, moved.session.meta.expiresAt)
    this.#insert(fromName, {
      key: { ...from },
      movedTo: to.id,
      session: { fields: {}, meta: { ...moved.session.meta, expiresAt: aliasUntil } },
    })
    return result
  }

  async updateUser(uid: string, change: UserChange, now: number, actor?: Actor) {
    this.#acting(uid, actor)
    let n = 0
    for (const id of [...(this.#users.get(uid)?.keys() ?? [])]) {
      const entry = id === change.except ? undefined : this.#live({ id, uid }, now)
      if (!entry) continue
      const meta = entry.session.meta
      if (change.roles) meta.roles = [...change.roles]
      if (change.revokeMethods?.length) {
        meta.revokedMethods = [
          ...new Set([...(meta.revokedMethods ?? []), ...change.revokeMethods]),
        ]
      }
      n++
    }
    return n
  }

  async hit(uid: string, name: string, options: HitOptions): Promise<HitResult> {
    this.#acting(uid, options.actor)
    return this.#items.hit(itemKey(uid, 'h', name), options, Date.now())
  }

  readonly rateHit = async (key: string, o: RateHitOptions) => this.#rates.hit(key, o)

  async claim(uid: string, name: string, ttlMs: number, actor?: Actor): Promise<boolean> {
    this.#acting(uid, actor)
    return this.#items.claim(itemKey(uid, 'c', name), ttlMs, Date.now())
  }

  async getUserValue(uid: string, name: string, actor?: Actor): Promise<string | null> {
    this.#acting(uid, actor)
    return this.#items.get(itemKey(uid, 'v', name), Date.now())
  }

  async setUserValue(uid: string, name: string, value: string | null, actor?: Actor) {
    this.#acting(uid, actor)
    this.#items.put(itemKey(uid, 'v', name), value)
  }

  async destroy(key: SessionKey, actor?: Actor): Promise<void> {
    if (key.uid !== undefined) this.#acting(key.uid, actor)
    const name = sessionKeyName('', key)
    const movedTo = this.#entries.get(name)?.movedTo
    this.#delete(name)
    // An alias's session is the one the caller means: destroying through it ends that session.
    if (movedTo !== undefined) this.#delete(sessionKeyName('', { id: movedTo, uid: key.uid }))
  }

  async destroyUser(uid: string, now: number, options: DestroyUserOptions = {}) {
    this.#acting(uid, options.actor)
    const ids = this.#users.get(uid)
    if (!ids) return 0
    let live = 0
    for (const id of [...ids.keys()]) {
      if (id === options.except) continue
      if (this.#live({ id, uid }, now)?.movedTo === undefined) live++
      this.#delete(sessionKeyName('', { id, uid }))
    }
    if (options.except === undefined) this.#users.delete(uid)
    return live
  }

  async listUser(uid: string, now: number, actor?: Actor): Promise<SessionSummary[]> {
    this.#acting(uid, actor)
    const out: SessionSummary[] = []
    for (const id of [...(this.#users.get(uid)?.keys() ?? [])]) {
      const entry = this.#live({ id, uid }, now)
      if (!entry) continue
      const m = entry.session.meta
      out.push({
        id,
        createdAt: m.createdAt,
        lastSeenAt: m.lastSeenAt,
        expiresAt: m.expiresAt,
        authTime: m.authTime,
        amr: m.amr && [...m.amr],
        client: m.client,
        ...(m.revokedMethods && { revokedMethods: [...m.revokedMethods] }),
      })
    }
    return out.sort((a, b) => a.expiresAt - b.expiresAt)
  }

  /**
   * Refuses (SessionRequiredError) unless the acting session of `uid` is live: the check and
   * the operation run in one synchronous step, as the Redis scripts do.
   */
  #acting(uid: string, actor: Actor | undefined): void {
    if (actor === undefined) return
    let entry = this.#live({ id: actor.id, uid }, actor.now)
    if (entry?.movedTo !== undefined) entry = this.#live({ id: entry.movedTo, uid }, actor.now)
    if (!entry || entry.movedTo !== undefined) throw new SessionRequiredError()
  }

  async ping(): Promise<StoreHealth> {
    return { latencyMs: 0, details: { store: 'memory', sessions: this.#entries.size } }
  }

  /** The entry when it exists and has not expired at `now`; an expired one is deleted. */
  #live(key: SessionKey, now: number): Entry | undefined {
    const name = sessionKeyName('', key)
    const entry = this.#entries.get(name)
    if (!entry) return undefined
    const { expiresAt, absoluteExpiresAt } = entry.session.meta
    if (now >= expiresAt || now >= absoluteExpiresAt) {
      this.#delete(name)
      return undefined
    }
    return entry
  }

  /** Puts an authenticated entry in its user's index, then evicts beyond the limit. */
  #index(entry: Entry, limit?: number): string[] {
    const uid = entry.key.uid
    if (uid === undefined) return []
    let ids = this.#users.get(uid)
    if (!ids) this.#users.set(uid, (ids = new Map()))
    ids.set(entry.key.id, entry.session.meta.expiresAt)
    const evicted: string[] = []
    if (limit && ids.size > limit) {
      // The session being created is never the one evicted: a new login must survive.
      const others = [...ids].filter(([id]) => id !== entry.key.id)
      const soonest = others.sort((a, b) => a[1] - b[1]).slice(0, ids.size - limit)
      for (const [id] of soonest) {
        evicted.push(id)
        this.#delete(sessionKeyName('', { id, uid }))
      }
    }
    return evicted
  }

  #insert(name: string, entry: Entry): void {
    this.#entries.set(name, entry)
    if (entry.key.uid === undefined || entry.movedTo !== undefined) this.#evictFirst.add(name)
  }

  /**
   * Evicts until one more entry fits: anonymous entries and aliases first, oldest first; a
   * signed-in entry only for a new signed-in one. Returns false when nothing may be evicted.
   */
  #makeRoom(signedIn: boolean): boolean {
    while (this.#entries.size >= this.#max) {
      const cheapest = this.#evictFirst.values().next()
      if (!cheapest.done) this.#delete(cheapest.value)
      else if (signedIn) this.#delete(this.#entries.keys().next().value as string)
      else return false
    }
    return true
  }

  #delete(name: string): void {
    const entry = this.#entries.get(name)
    if (!entry) return
    this.#entries.delete(name)
    this.#evictFirst.delete(name)
    const uid = entry.key.uid
    if (uid === undefined || entry.movedTo !== undefined) return
    const ids = this.#users.get(uid)
    ids?.delete(entry.key.id)
    if (ids?.size === 0) this.#users.delete(uid)
  }

  /** Examines a few entries from where the last sweep stopped, deleting expired ones. */
  #sweep(now: number): void {
    for (let i = 0; i < this.#sweepBatch; i++) {
      this.#cursor ??= this.#entries.entries()
      const next = this.#cursor.next()
      if (next.done) {
        this.#cursor = undefined
        return
      }
      const { expiresAt, absoluteExpiresAt } = next.value[1].session.meta
      if (now >= expiresAt || now >= absoluteExpiresAt) this.#delete(next.value[0])
    }
  }
}
