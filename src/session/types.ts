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

/** @internal Used by the middleware; not part of the public API. */
export const kOpen = Symbol('open')
/** @internal */
export const kFinish = Symbol('finish')
/** @internal Lets the package's own modules (TOTP) report events. */
export const kEmit = Symbol('emit')
