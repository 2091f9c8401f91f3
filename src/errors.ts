import { withTimeout as deadline } from './util/timeout.js'

/**
 * Typed errors with stable codes. Tell them apart by `code`, never by message text. Every one
 * renders itself (`getResponse()`, as Hono's `HTTPException` does), so Hono's `onError`, its
 * default handler and the middleware answer the same way. Messages never contain a session
 * secret, a token or a raw Redis/jose error text.
 */

/** Every code a {@link SessionError} carries. */
export type SessionErrorCode =
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_STORE_TIMEOUT'
  | 'ERR_SESSION_LIMIT'
  | 'ERR_SESSION_INPUT'
  | 'ERR_SESSION_STATE'
  | 'ERR_SESSION_REQUIRED'
  | 'ERR_STEP_UP_REQUIRED'
  | 'ERR_FORBIDDEN'
  | 'ERR_RATE_LIMITED'

/** The base of every error of this package: a stable `code`, an HTTP `status`, a response. */
export abstract class SessionError extends Error {
  /** A stable, machine-readable code such as `ERR_SESSION_STORE`. */
  readonly code: SessionErrorCode
  /** The HTTP status the error answers with. */
  abstract readonly status: number
  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
  /** The JSON response for this error: `{ error, code }` with `Cache-Control: no-store`. */
  getResponse(): Response {
    return jsonError(this.status, this.code, this.message)
  }
}

/**
 * The store failed or timed out. Maps to 503 with `Retry-After` (fail-closed) or an anonymous
 * session (fail-open). Its body never carries the store's own text.
 */
export class StoreError extends SessionError {
  readonly status: number = 503
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SESSION_STORE', message, options)
  }
  /** Seconds a client should wait before retrying. */
  retryAfter = 1
  override getResponse(): Response {
    return jsonError(this.status, this.code, 'Session store unavailable', {
      'Retry-After': String(this.retryAfter),
    })
  }
}

/** A store call exceeded its bounded timeout. */
export class StoreTimeoutError extends StoreError {
  override readonly code = 'ERR_SESSION_STORE_TIMEOUT'
}

/** A value, a field or a session exceeded a size limit. Maps to 413 (400 for bad values). */
export class SessionLimitError extends SessionError {
  readonly status = 413
  constructor(message: string) {
    super('ERR_SESSION_LIMIT', message)
  }
}

/**
 * The input of a Session call is malformed: a field name, a value that is not JSON, a
 * non-integer step, a user id, roles, methods or a session id. Maps to 400.
 */
export class SessionInputError extends SessionError {
  readonly status = 400
  constructor(message: string) {
    super('ERR_SESSION_INPUT', message)
  }
}

/** The session API was used in a way that cannot work (a programming error). Maps to 500. */
export class SessionStateError extends SessionError {
  readonly status = 500
  constructor(message: string) {
    super('ERR_SESSION_STATE', message)
  }
}

/** An access-control refusal: 401 (no session, step-up needed) or 403 (lacks a role). */
export class AccessError extends SessionError {
  readonly status: 401 | 403
  readonly details: Record<string, unknown>
  constructor(
    status: 401 | 403,
    code: SessionErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message)
    this.status = status
    this.details = details
  }
  override getResponse(): Response {
    const headers: Record<string, string> = {}
    if (this.status === 401) headers['WWW-Authenticate'] = 'Session'
    const res = jsonError(this.status, this.code, this.message, headers)
    if (Object.keys(this.details).length === 0) return res
    return new Response(
      JSON.stringify({ error: this.message, code: this.code, ...this.details }),
      res,
    )
  }
}

/**
 * A per-user operation (devices, counters, claims, per-user secrets) was asked for without a
 * session that is live in the store at that moment: none, or one that was logged out, revoked,
 * expired or rotated past its grace window. Nothing was done. The same answer as no session:
 * 401 `ERR_SESSION_REQUIRED`.
 */
export class SessionRequiredError extends AccessError {
  constructor() {
    super(401, 'ERR_SESSION_REQUIRED', 'Sign-in required')
  }
}

/**
 * A rate limit refused the request (`rateLimit()`): 429 `ERR_RATE_LIMITED` with `Retry-After`
 * and the `RateLimit-*` headers it was built with. Nothing was counted.
 */
export class RateLimitError extends SessionError {
  readonly status = 429
  /** Seconds until the window ends (at least 1). */
  readonly retryAfter: number
  readonly headers: Record<string, string>
  constructor(retryAfter: number, headers: Record<string, string> = {}) {
    super('ERR_RATE_LIMITED', 'Too many requests')
    this.retryAfter = retryAfter
    this.headers = headers
  }
  override getResponse(): Response {
    return jsonError(this.status, this.code, this.message, {
      ...this.headers,
      'Retry-After': String(this.retryAfter),
    })
  }
}

/**
 * Runs `promise` with a deadline; rejects with {@link StoreTimeoutError} when it passes, or
 * with `mapError(err)` when the promise rejects.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  mapError?: (err: unknown) => unknown,
): Promise<T> {
  return deadline(
    promise,
    ms,
    () => new StoreTimeoutError(`${what} timed out after ${ms} ms`),
    mapError,
  )
}

/**
 * @internal A stored hash that cannot be a session this package wrote (edited by hand, another
 * program's key): not a store failure, so the session treats it as gone.
 */
export class PoisonedSessionError extends Error {
  override name = 'PoisonedSessionError'
}

/** A JSON error response with `Cache-Control: no-store`. Never carries raw Redis or jose text. */
export function jsonError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error: message, code }), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  })
}
