import { PoisonedSessionError, SessionError, StoreError, withTimeout } from './errors.js'
import type { SessionEvent, SessionEventHandler } from './events.js'
import { expiryPolicy, type ExpiryOptions, type ExpiryPolicy } from './expiry.js'
import { memoryStore } from './store/memory.js'
import type { Store } from './store/types.js'
import { KeyRing, type TokenKey } from './token.js'
import { TokenCache } from './token-cache.js'

/** Size limits; values are UTF-8 bytes of the JSON text. */
export interface SessionLimits {
  /** Largest field (name plus JSON value), bytes. Default 65536. */
  maxFieldBytes?: number
  /** Largest session (all fields), bytes. Default 262144. */
  maxSessionBytes?: number
}

/** Options of the `session()` middleware. */
export interface SessionOptions extends ExpiryOptions {
  /** The key ring: `[{ kid, secret }]`, 32-byte secrets; the first one seals. Required. */
  keys: readonly TokenKey[]
  /** Where sessions live. Default: a new in-process {@link memoryStore} (one instance only). */
  store?: Store
  /** Cookie name, without prefix. Default `session` (sent as `__Host-session`). */
  cookieName?: string
  /** Cookie `SameSite`. Default `Lax`. */
  sameSite?: 'Lax' | 'Strict'
  /** Cookie `Domain`. Default none (host-only; the `__Host-` prefix becomes `__Secure-` when set). */
  domain?: string
  /**
   * Plain-HTTP development on localhost: no `Secure` flag and no prefix. Requests to any other
   * host are refused with 400. Default false.
   */
  insecureLocalhost?: boolean
  /** Rotate an authenticated session's secret after this many seconds; 0 turns it off. Default 900. */
  rotateEvery?: number
  /** How long a rotated-away token keeps working for requests in flight, seconds. Default 30. */
  rotationGrace?: number
  /** Evict the user's soonest-expiring sessions beyond this many. Default: no limit. */
  maxSessionsPerUser?: number
  /** What to do when the store fails: 503 (`fail-closed`, default) or serve as anonymous (`fail-open`). */
  onStoreError?: 'fail-closed' | 'fail-open'
  /** Upper bound of any store call, milliseconds (stores have tighter ones of their own). Default 2000. */
  storeTimeoutMs?: number
  /** Size limits. */
  limits?: SessionLimits
  /** Role -> permissions, for `requirePermission()` and `session.permissions()`. */
  permissions?: Record<string, readonly string[]>
  /** Seal every session value with AES-GCM under a key derived from the session secret. Default false. */
  encryptAtRest?: boolean
  /** How many already-opened tokens to remember (0: none). Default 4096. */
  tokenCacheSize?: number
  /** Receives lifecycle events (never a secret). */
  onEvent?: SessionEventHandler
  /** The clock, epoch milliseconds. Default `Date.now`. For tests. */
  now?: () => number
}

/** @internal The validated options shared by every request of one middleware instance. */
export interface SessionRuntime {
  store: Store
  ring: KeyRing
  policy: ExpiryPolicy
  now: () => number
  limits: Required<SessionLimits>
  maxSessionsPerUser: number | undefined
  failOpen: boolean
  encryptAtRest: boolean
  /** Tokens already opened by this instance (see TokenCache). */
  tokens: TokenCache
  rotateEveryMs: number
  rotationGraceMs: number
  permissions: ReadonlyMap<string, readonly string[]>
  emit(event: SessionEvent): void
  /** Runs a store call under the timeout, mapping every failure to a StoreError. */
  call<T>(operation: string, fn: () => Promise<T>): Promise<T>
}

/** @internal Validates options once, at start-up; throws a plain Error naming the bad option. */
export function createRuntime(options: SessionOptions): SessionRuntime {
  if (!options || typeof options !== 'object')
    throw new Error('Session middleware requires options with "keys"')
  const {
    store = memoryStore(),
    maxSessionsPerUser,
    onStoreError = 'fail-closed',
    storeTimeoutMs = 2000,
    limits = {},
    onEvent,
    now = Date.now,
    permissions = {},
    encryptAtRest = false,
    rotateEvery = 900,
    tokenCacheSize = 4096,
    rotationGrace = 30,
  } = options
  if (!(rotateEvery >= 0))
    throw new Error('Session option "rotateEvery" must be 0 (off) or seconds')
  if (!(rotationGrace >= 0)) throw new Error('Session option "rotationGrace" must be seconds')
  if (onStoreError !== 'fail-closed' && onStoreError !== 'fail-open') {
    throw new Error('Session option "onStoreError" must be "fail-closed" or "fail-open"')
  }
  if (
    maxSessionsPerUser !== undefined &&
    !(Number.isInteger(maxSessionsPerUser) && maxSessionsPerUser > 0)
  ) {
    throw new Error('Session option "maxSessionsPerUser" must be a positive integer')
  }
  if (!(storeTimeoutMs > 0)) throw new Error('Session option "storeTimeoutMs" must be positive')
  // One deadline per store call: a store that bounds its own calls within ours gets no second timer.
  const own = store.timeoutMs
  const selfBounded = typeof own === 'number' && own >= 0 && own <= storeTimeoutMs
  const emit = (event: SessionEvent) => {
    try {
      onEvent?.(event)
    } catch {
      // an observer must never break a request
    }
  }
  const failOpen = onStoreError === 'fail-open'
  return {
    store,
    ring: new KeyRing(options.keys),
    policy: expiryPolicy(options),
    now,
    limits: { maxFieldBytes: 65_536, maxSessionBytes: 262_144, ...limits },
    maxSessionsPerUser,
    failOpen,
    encryptAtRest,
    tokens: new TokenCache(tokenCacheSize),
    rotateEveryMs: rotateEvery * 1000,
    rotationGraceMs: rotationGrace * 1000,
    permissions: new Map(Object.entries(permissions)),
    emit,
    async call(operation, fn) {
      // timings only when someone listens: this runs on every store call
      const started = onEvent ? performance.now() : 0
      try {
        const result = await (selfBounded
          ? fn()
          : withTimeout(fn(), storeTimeoutMs, `session store ${operation}`))
        if (onEvent) {
          emit({ type: 'store-call', operation, durationMs: performance.now() - started, ok: true })
        }
        return result
      } catch (err) {
        if (onEvent) {
          emit({
            type: 'store-call',
            operation,
            durationMs: performance.now() - started,
            ok: false,
          })
        }
        // A hand-edited entry is the data's fault, not the store's: the session treats it as gone.
        // A refusal (a limit, a dead session) is the request's answer, not a store failure.
        if (err instanceof PoisonedSessionError || isRefusal(err)) throw err
        const storeError =
          err instanceof StoreError
            ? err
            : new StoreError(`session store ${operation} failed`, { cause: err })
        emit({ type: 'store-error', operation, code: storeError.code, failOpen })
        throw storeError
      }
    },
  }
}

/** A typed answer of the store that is not its failure: a size limit, a session not live. */
export function isRefusal(err: unknown): boolean {
  return err instanceof SessionError && !(err instanceof StoreError)
}
