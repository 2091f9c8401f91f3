/**
 * The storage contract behind the session middleware.
 *
 * Every method is one round trip to the backing store (one script call for Redis), except where
 * noted. All instants are epoch milliseconds taken from the middleware's clock (`now`), so that
 * expiry is enforced with the same clock the middleware uses, and tests can inject time.
 *
 * Semantics that every store must share (the conformance suite, `hono-redis-session/testing` in
 * `src/testing/`, checks them):
 * - A session is gone when its entry is missing, or when `now >= meta.expiresAt` (idle deadline),
 *   or when `now >= meta.absoluteExpiresAt`. A gone session is never returned, and is never
 *   brought back by `commit` (no resurrection).
 * - The backing TTL always equals `meta.expiresAt - now` at the moment it is set: the store TTL
 *   and `meta.expiresAt` move together, and the middleware derives the cookie `Max-Age` from the
 *   same value.
 * - Per-user operations given an {@link Actor} run only while that session is live, checked in
 *   the same atomic step; otherwise they change nothing and reject with `SessionRequiredError`.
 * - Writes given `maxDataBytes` are refused (a `SessionLimitError`, nothing written) when the
 *   session's data fields would hold more than that many bytes (the UTF-8 bytes of every data field's name and
 *   stored value, flash values included, metadata not: `dataBytes` in `../bytes.ts`).
 * - Authenticated sessions (`key.uid` set) are listed in a per-user index whose members are
 *   session ids scored by their `expiresAt`; members past `now` are pruned on every write to it.
 */
export interface Store {
  /**
   * Reads a session. When it exists and its idle deadline is at or before `extendIfBefore`,
   * moves the deadline to `extendTo` (capped by the absolute deadline) and resets the TTL.
   * With `consume: true` the entry is deleted in the same atomic step (used to move a session
   * to a new key when its secret is regenerated).
   * @returns the session, or `null` when it is gone.
   */
  load(key: SessionKey, options: LoadOptions): Promise<LoadResult | MovedResult | null>

  /**
   * Writes a new session (it must not exist yet). Adds it to its user's index when
   * `key.uid` is set and then evicts the sessions of that user that expire soonest while
   * more than `maxSessionsPerUser` remain. When `replace` is given, that entry is deleted too
   * (atomically when it lives in the same slot, otherwise as a second call).
   */
  create(key: SessionKey, session: StoredSession, options: CreateOptions): Promise<CreateResult>

  /**
   * Applies a field patch to an existing session: sets `patch.set`, deletes `patch.del`,
   * merges `patch.meta`, and extends the idle deadline as `load` does.
   * @returns `null` when the session is gone (nothing is written), a {@link MovedResult} when
   * the key is a rotation alias (nothing is written), else the deadline after.
   */
  commit(
    key: SessionKey,
    patch: SessionPatch,
    options: CommitOptions,
  ): Promise<CommitResult | MovedResult | null>

  /**
   * Periodic rotation of an authenticated session, atomically: copies every stored field of
   * `from` to `to` (same user, so the same slot; concurrent writes are not lost), applies
   * `patch`, sets `rotatedAt`, extends as `commit` does, moves the index member, and turns
   * `from` into an alias of `to` for `graceMs` (capped by the deadline), so requests in flight
   * holding the previous token reach the new entry (`load`/`commit` answer {@link MovedResult}).
   * `destroy` of an alias deletes its target too.
   * @returns `null` when `from` is gone, a {@link MovedResult} when another request rotated it
   * first (nothing written), else the deadline after.
   */
  rotate(
    from: SessionKey,
    to: SessionKey,
    patch: SessionPatch,
    options: RotateOptions,
  ): Promise<CommitResult | MovedResult | null>

  /**
   * Changes every live session of a user in one call: sets `roles`, and adds
   * `revokeMethods` to their revoked methods (a second factor was replaced or removed), leaving
   * out the session `except`. @returns how many changed.
   */
  updateUser(uid: string, change: UserChange, now: number, actor?: Actor): Promise<number>

  /**
   * Counts events in a fixed window per user (rate limits such as failed step-up attempts):
   * adds `by` (default 1; 0 only reads; negative gives back) and starts the window on the first
   * event. With `limit`, the addition is refused, nothing changed, when the count would pass it:
   * check-and-count is one atomic step, so no number of parallel callers gets past the limit.
   */
  hit(uid: string, name: string, options: HitOptions): Promise<HitResult>

  /**
   * Counts a request against a rate limit that belongs to no user (the `rateLimit` middleware):
   * the same fixed-window check-and-count as {@link Store.hit}, one atomic step, under a key of
   * its own namespace (`key` matches {@link RATE_KEY}: the middleware passes a hash). Optional:
   * `rateLimit()` refuses a store without it; the suite is told with `{ rateLimits: false }`.
   */
  rateHit?(key: string, options: RateHitOptions): Promise<HitResult>

  /** Marks `name` used for the user for `ttlMs`. @returns false when it was already marked. */
  claim(uid: string, name: string, ttlMs: number, actor?: Actor): Promise<boolean>

  /** Reads a small per-user value (e.g. a sealed TOTP secret); null when unset. */
  getUserValue(uid: string, name: string, actor?: Actor): Promise<string | null>

  /** Writes (or with `null`, deletes) a small per-user value; it does not expire. */
  setUserValue(uid: string, name: string, value: string | null, actor?: Actor): Promise<void>

  /** Deletes a session and removes it from its user's index. Idempotent. */
  destroy(key: SessionKey, actor?: Actor): Promise<void>

  /**
   * Deletes every session of a user (but `except`) and, when none is left, the index,
   * atomically. @returns how many were live.
   */
  destroyUser(uid: string, now: number, options?: DestroyUserOptions): Promise<number>

  /** Lists the live sessions of a user, soonest expiry first. Prunes the index as it reads. */
  listUser(uid: string, now: number, actor?: Actor): Promise<SessionSummary[]>

  /** Checks the store answers. Rejects (with a {@link StoreError}) when it does not. */
  ping(): Promise<StoreHealth>

  /** Releases connections and timers the store created itself (never a client passed in). */
  close?(): Promise<void>

  /**
   * Set by a store that bounds its own calls: every call settles within this many milliseconds
   * and fails only with a typed {@link StoreError}. The middleware then adds no timer of its own
   * (one deadline per call) unless its `storeTimeoutMs` is tighter. Leave it unset when a call
   * may hang: the middleware bounds it. 0: calls never wait on I/O (the memory store).
   */
  readonly timeoutMs?: number
}

/** Identifies one session. Derived from the secret; never the secret itself. */
export interface SessionKey {
  /** base64url(SHA-256(secret)), 43 characters. */
  readonly id: string
  /** The bound user when authenticated; selects the user's hash slot and index. */
  readonly uid?: string | undefined
}

/** Reserved metadata kept beside the data. All instants are epoch milliseconds. */
export interface SessionMeta {
  /** When the session was first created (kept across regeneration). */
  createdAt: number
  /** The sliding idle deadline. Never after `absoluteExpiresAt`. */
  expiresAt: number
  /** The absolute deadline, a whole second (it equals the token's `exp` times 1000). */
  absoluteExpiresAt: number
  /** The last time the deadline was extended or the session written. */
  lastSeenAt: number
  /** The bound user id. */
  uid?: string | undefined
  /** Server-side roles of the user. */
  roles?: string[] | undefined
  /** When the user last authenticated (first factor or step-up). */
  authTime?: number | undefined
  /** Authentication methods used (`pwd`, `otp`, ...). */
  amr?: string[] | undefined
  /** When the secret was last regenerated. */
  rotatedAt?: number | undefined
  /** A short client hint (user agent summary) for "my devices". */
  client?: string | undefined
  /**
   * Methods revoked since they were recorded (a second factor was replaced or removed): they no
   * longer count, whatever `amr` says. Only `updateUser` writes it.
   */
  revokedMethods?: string[] | undefined
}

/** A whole session as stored: encoded data fields plus metadata. */
export interface StoredSession {
  /** Data fields: name -> encoded value (JSON text, or sealed when encrypted at rest). */
  fields: Record<string, string>
  meta: SessionMeta
}

/** When and how far to extend the idle deadline. */
export interface ExtendOptions {
  /** The middleware's current time. */
  now: number
  /** Extend when `meta.expiresAt <= extendIfBefore`. */
  extendIfBefore: number
  /** The new idle deadline when extending (the middleware already capped it). */
  extendTo: number
}

/** Options of `commit`. */
export interface CommitOptions extends ExtendOptions {
  /** Refuse the write when the data fields would then hold more bytes. Default: no limit. */
  maxDataBytes?: number | undefined
}

export interface LoadOptions extends ExtendOptions {
  /** Delete the entry (and its index member) in the same atomic step as the read. */
  consume?: boolean
  /**
   * Before reading, add `by` to the integer held by data field `field` (a missing field counts
   * from 0), in the same atomic step. Refused, with nothing changed, unless the field holds a
   * safe integer (decimal digits, at most 17 characters) and the sum is one too.
   */
  increment?: { field: string; by: number }
  /** With `increment`: refuse it when the data fields would then hold more bytes. */
  maxDataBytes?: number | undefined
}

export interface LoadResult {
  session: StoredSession
  /** Whether the deadline (and TTL) moved in this call; `session.meta.expiresAt` is the new one. */
  extended: boolean
  /** The `increment` asked for was refused (see {@link LoadOptions.increment}). */
  incrementRefused?: boolean
}

export interface CreateOptions {
  now: number
  /** Evict the soonest-expiring sessions of the user beyond this many (0 or absent: no limit). */
  maxSessionsPerUser?: number | undefined
  /** An entry to delete as part of the creation (regeneration). */
  replace?: SessionKey | undefined
}

export interface CreateResult {
  /** Ids of the sessions of the same user evicted by `maxSessionsPerUser`. */
  evicted: string[]
}

/** A field-level change: only what the request changed reaches the store. */
export interface SessionPatch {
  set: Record<string, string>
  del: string[]
  /** Metadata fields to overwrite (`undefined` values are left alone). */
  meta?: Partial<Omit<SessionMeta, 'createdAt' | 'absoluteExpiresAt' | 'uid'>> | undefined
}

export interface RotateOptions extends CommitOptions {
  /** How long the previous key keeps leading to the new entry, milliseconds. */
  graceMs: number
}

/** The key is a rotation alias: the session now lives under `movedTo` (same uid). */
export interface MovedResult {
  movedTo: string
}

/** Tells a {@link MovedResult} from the other results. */
export function isMoved(result: unknown): result is MovedResult {
  return typeof result === 'object' && result !== null && 'movedTo' in result
}

/**
 * The session a per-user operation acts for: it must be live in the store when the operation
 * runs, checked in the same atomic step (it is a session of the operation's user, so it lives in
 * the same Cluster slot). A rotation alias inside its grace window acts for its target.
 */
export interface Actor {
  /** The acting session's id (a session of the operation's user). */
  id: string
  /** The caller's clock, epoch milliseconds (the operation's own `now`, where it takes one). */
  now: number
}

/** A change to every live session of a user (see `Store.updateUser`). */
export interface UserChange {
  /** New roles. */
  roles?: string[] | undefined
  /** Methods to add to each session's `revokedMethods`. */
  revokeMethods?: string[] | undefined
  /** A session id to leave out. */
  except?: string | undefined
}

/** Options of `Store.destroyUser`. */
export interface DestroyUserOptions {
  actor?: Actor | undefined
  /** A session id to keep. */
  except?: string | undefined
}

/** Options of `Store.hit`. */
export interface HitOptions {
  /** Length of the window, started by the first event, milliseconds. */
  windowMs: number
  /** How much to add. Default 1. */
  by?: number | undefined
  /** Refuse (change nothing) when the count would then be above this. */
  limit?: number | undefined
  actor?: Actor | undefined
}

/** Options of `Store.rateHit`. */
export interface RateHitOptions {
  /** Length of the window, started by the first counted request, milliseconds. */
  windowMs: number
  /** Refuse (change nothing) when the count would then be above this. */
  limit: number
  /** How much to add. Default 1; 0 only reads; negative gives back. */
  by?: number | undefined
  /** The caller's clock (a store that keeps its own expiry, such as Redis' TTL, may ignore it). */
  now: number
}

/** Keys of `Store.rateHit`: 1 to 200 of `[A-Za-z0-9._:-]` (no hash tag characters). */
export const RATE_KEY = /^[A-Za-z0-9._:-]{1,200}$/

/** What `Store.hit` found. */
export interface HitResult {
  /** The count in the current window, after the addition when it was made. */
  count: number
  /** False when `limit` refused the addition. */
  allowed: boolean
  /** Milliseconds until the window ends (0 when there is none). */
  resetMs: number
}

/** Whether a hash field holds data (counted by `maxDataBytes`): not metadata; flash values are data. */
export function isDataField(name: string): boolean {
  return !name.startsWith(RESERVED_PREFIX) || name.startsWith(FLASH_PREFIX)
}

/** Names of per-user counters, claims and values: 1 to 128 of `[A-Za-z0-9._:-]`. */
export const USER_ITEM_NAME = /^[A-Za-z0-9._:-]{1,128}$/

export interface CommitResult {
  expiresAt: number
  extended: boolean
}

/** One entry of a user's "devices" list. */
export interface SessionSummary {
  id: string
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  authTime?: number | undefined
  amr?: string[] | undefined
  client?: string | undefined
  /** See {@link SessionMeta.revokedMethods}. */
  revokedMethods?: string[] | undefined
}

export interface StoreHealth {
  /** Round-trip time of the ping, milliseconds. */
  latencyMs: number
  /** Free-form details the store knows (role, replication, failover state). */
  details?: Record<string, unknown>
}

/** Prefix of reserved field names: data field names must not start with it. */
export const RESERVED_PREFIX = '$'

/** Flash values are data fields under this reserved prefix (read once, then deleted). */
export const FLASH_PREFIX = '$f:'
