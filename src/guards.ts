import type { MiddlewareHandler } from 'hono'
import { AccessError, SessionRequiredError } from './errors.js'
import type { SessionEnv } from './middleware.js'
import { satisfiesMethod } from './trusted-device.js'

export { AccessError } from './errors.js'

/**
 * Answers 401 unless the request has an authenticated session (checked in the store, so a
 * revoked or expired session is refused).
 *
 * @example
 * ```ts
 * app.use('/api/*', requireSession())
 * ```
 */
export const requireSession = (): MiddlewareHandler<SessionEnv> =>
  async function requireSession(c, next) {
    const info = await c.get('session').info()
    if (!info?.userId) throw new SessionRequiredError()
    await next()
  }

/**
 * Answers 401 without a session and 403 unless the session holds at least one of `roles`.
 * Roles are read from the server-side session on every request, never from the client.
 *
 * @example
 * ```ts
 * app.use('/admin/*', requireRole('admin'))
 * ```
 */
export const requireRole = (...roles: string[]): MiddlewareHandler<SessionEnv> => {
  if (roles.length === 0) throw new Error('requireRole() needs at least one role')
  return async function requireRole(c, next) {
    const info = await c.get('session').info()
    if (!info?.userId) throw new SessionRequiredError()
    if (!roles.some((r) => info.roles.includes(r))) {
      throw new AccessError(403, 'ERR_FORBIDDEN', 'Missing role', { required: roles })
    }
    await next()
  }
}

/**
 * Answers 401 without a session and 403 unless the session's roles grant every one of `perms`
 * through the middleware's `permissions` map (role -> permissions).
 *
 * @example
 * ```ts
 * app.use(session({ keys, store, permissions: { admin: ['users:write'], user: ['profile:write'] } }))
 * app.post('/users', requirePermission('users:write'), handler)
 * ```
 */
export const requirePermission = (...perms: string[]): MiddlewareHandler<SessionEnv> => {
  if (perms.length === 0) throw new Error('requirePermission() needs at least one permission')
  return async function requirePermission(c, next) {
    const s = c.get('session')
    const info = await s.info()
    if (!info?.userId) throw new SessionRequiredError()
    const granted = await s.permissions()
    const missing = perms.filter((p) => !granted.has(p))
    if (missing.length > 0) {
      throw new AccessError(403, 'ERR_FORBIDDEN', 'Missing permission', { required: missing })
    }
    await next()
  }
}

/** Options of {@link requireFreshAuth}. */
export interface FreshAuthOptions {
  /** How long ago the last authentication may be, seconds. Default 300. */
  maxAge?: number
  /**
   * Methods (`amr` values) that must have been used, e.g. `['otp']`. Default `['otp']`. A backup
   * code (`backup`) counts as `otp`.
   */
  methods?: string[]
  /**
   * Always ask for the factor itself: a sign-in on a trusted device (`amr` `trusted`) does not
   * stand in for `otp`. Default false: within `maxAge` of such a sign-in it does.
   */
  alwaysFresh?: boolean
}

/**
 * For sensitive operations: answers 401 unless the session authenticated within `maxAge`
 * seconds with every method in `methods` (a second factor, by default). The body says why:
 * `{ code: 'ERR_STEP_UP_REQUIRED', reason: 'missing-method' | 'stale' | 'no-session', methods, maxAge }`.
 *
 * A sign-in on a trusted device (`trustedDevices()`: `amr` `['pwd', 'trusted']`) counts for
 * `otp` as a code typed at that sign-in would: within `maxAge` of it, and not at all with
 * `alwaysFresh: true`.
 *
 * @example
 * ```ts
 * app.post('/api/password', requireFreshAuth({ maxAge: 300, methods: ['otp'] }), handler)
 * app.post('/api/email', requireFreshAuth({ maxAge: 300, alwaysFresh: true }), handler)
 * ```
 */
export const requireFreshAuth = (options: FreshAuthOptions = {}): MiddlewareHandler<SessionEnv> => {
  const { maxAge = 300, methods = ['otp'], alwaysFresh = false } = options
  if (!(maxAge > 0)) throw new Error('requireFreshAuth() option "maxAge" must be positive seconds')
  const refuse = (reason: string) =>
    new AccessError(401, 'ERR_STEP_UP_REQUIRED', 'Recent authentication required', {
      reason,
      methods,
      maxAge,
    })
  return async function requireFreshAuth(c, next) {
    const s = c.get('session')
    const info = await s.info()
    if (!info?.userId) throw refuse('no-session')
    if (!methods.every((m) => satisfiesMethod(info.amr, m, alwaysFresh)))
      throw refuse('missing-method')
    if (info.authTime === undefined || s.now() - info.authTime > maxAge * 1000)
      throw refuse('stale')
    await next()
  }
}
