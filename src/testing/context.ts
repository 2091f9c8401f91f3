import {
  isMoved,
  type SessionKey,
  type SessionMeta,
  type Store,
  type StoredSession,
} from '../store/types.js'

/** Parts of the {@link Store} contract a store may leave out; the suite checks the rest. */
export interface StoreCapabilities {
  /**
   * The per-user index: `listUser`, `destroyUser`, `updateUser` and `maxSessionsPerUser` on
   * `create` (the `Session` devices API, "log out everywhere", `updateUserRoles`, the session
   * limit). Default true.
   */
  userIndex?: boolean
  /**
   * Per-user items: `hit`, `claim`, `getUserValue`, `setUserValue` (rate limits, single-use
   * claims, TOTP secrets). Default true.
   */
  items?: boolean
  /** Periodic rotation: `rotate` with its grace-window aliases (`rotateEvery`). Default true. */
  rotation?: boolean
  /** Rate limits of no user: `rateHit` (the `rateLimit` middleware, `rateLimiter`). Default true. */
  rateLimits?: boolean
}

/** What every case of the suite works with: the store and helpers that build its input. */
export interface SuiteContext {
  /** The store under test (set before the first case runs). */
  store(): Store
  /** The capabilities the store has, every one resolved. */
  readonly has: Required<StoreCapabilities>
  /** The idle window every session gets, milliseconds. */
  readonly IDLE: number
  /** A new 43-character session id, unique within the suite. */
  newId(): string
  /** A user id unique within the suite, starting with `label`. */
  uniqueUser(label: string): string
  /** A stored session created at `now`, idle for {@link IDLE}, absolute six times that. */
  sessionAt(
    now: number,
    extra?: Partial<SessionMeta>,
    fields?: Record<string, string>,
  ): StoredSession
  /** Load and commit options that never extend. */
  noExtend(now: number): { now: number; extendIfBefore: number; extendTo: number }
  /** `store.load` where a rotation alias would be a test failure. */
  loadLive: (
    key: SessionKey,
    options: Parameters<Store['load']>[1],
  ) => Promise<Exclude<Awaited<ReturnType<Store['load']>>, { movedTo: string }>>
  /** Creates a session for `key` (bound to `key.uid`) at `now`. */
  create(
    key: SessionKey,
    now: number,
    fields?: Record<string, string>,
    meta?: Partial<SessionMeta>,
  ): Promise<void>
}

/**
 * The helpers of one suite run. Times are real epoch milliseconds with offsets, so TTLs a
 * backing store sets stay long enough for the test (minutes) while the deadlines the store
 * checks move with the `now` argument.
 */
export function suiteContext(
  store: () => Store,
  capabilities: StoreCapabilities = {},
): SuiteContext {
  const { userIndex = true, items = true, rotation = true, rateLimits = true } = capabilities
  const IDLE = 10 * 60_000
  let counter = 0
  const newId = () => {
    const n = `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2)}`
    return (n + 'A'.repeat(43)).slice(0, 43).replace(/[^A-Za-z0-9_-]/g, 'x')
  }
  const sessionAt = (
    now: number,
    extra: Partial<SessionMeta> = {},
    fields: Record<string, string> = {},
  ): StoredSession => ({
    fields: { ...fields },
    meta: {
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + IDLE,
      absoluteExpiresAt: Math.floor((now + 6 * IDLE) / 1000) * 1000,
      ...extra,
    },
  })
  return {
    store,
    has: { userIndex, items, rotation, rateLimits },
    IDLE,
    newId,
    uniqueUser: (label) => `${label}-${newId().slice(0, 12)}`,
    sessionAt,
    noExtend: (now) => ({ now, extendIfBefore: 0, extendTo: 0 }),
    async loadLive(key, options) {
      const result = await store().load(key, options)
      if (isMoved(result)) throw new Error(`unexpected alias to ${result.movedTo}`)
      return result
    },
    async create(key, now, fields = {}, meta = {}) {
      await store().create(key, sessionAt(now, { uid: key.uid, ...meta }, fields), { now })
    },
  }
}
