import type { Context, MiddlewareHandler } from 'hono'
import { generateCookie, getCookie } from 'hono/cookie'
import type { CookieOptions } from 'hono/utils/cookie'
import { SessionError, jsonError } from './errors.js'
import { createRuntime, type SessionOptions } from './runtime.js'
import { nativeHeaders, responseHeader } from './response-headers.js'
import { isLoopbackHost } from './util/loopback.js'
import {
  Session,
  kFinish,
  kOpen,
  type Outcome,
  type SessionData,
  type SessionRequest,
} from './session/session.js'

/** Context variables set by the middleware: `c.get('session')` / `c.var.session`. */
export type SessionVariables<Data extends SessionData = SessionData> = { session: Session<Data> }

/** The Hono `Env` for apps using sessions: `new Hono<SessionEnv<MyData>>()`. */
export type SessionEnv<Data extends SessionData = SessionData> = {
  Variables: SessionVariables<Data>
}

/**
 * Server-side sessions for Hono: a JWE cookie naming an entry in a store, sliding idle expiry
 * under an absolute lifetime, one store call per request.
 *
 * @param options.keys the key ring `[{ kid, secret }]` (32-byte secrets, the first one seals); required
 * @param options.store where sessions live; default an in-process memory store
 * @param options.idleTimeout sliding idle timeout, seconds; default 86400
 * @param options.absoluteTimeout absolute lifetime, seconds; default 604800
 * @param options.onStoreError `'fail-closed'` (503, default) or `'fail-open'` (anonymous)
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { session, type SessionEnv } from 'hono-redis-session'
 *
 * const app = new Hono<SessionEnv<{ count: number }>>()
 * app.use(session({ keys: [{ kid: 'k1', secret: process.env.SESSION_KEY! }] }))
 * app.post('/count', async (c) => c.json({ count: await c.get('session').increment('count') }))
 * ```
 */
export const session = <Data extends SessionData = SessionData>(
  options: SessionOptions,
): MiddlewareHandler<SessionEnv<Data>> => {
  const runtime = createRuntime(options)
  const { cookieName = 'session', sameSite = 'Lax', domain, insecureLocalhost = false } = options
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cookieName))
    throw new Error('Session option "cookieName" must match [A-Za-z0-9_-]{1,64}')
  if (sameSite !== 'Lax' && sameSite !== 'Strict')
    throw new Error('Session option "sameSite" must be "Lax" or "Strict"')
  const prefix = insecureLocalhost ? undefined : domain ? 'secure' : 'host'
  const cookieOptions: CookieOptions = {
    path: '/',
    httpOnly: true,
    secure: !insecureLocalhost,
    sameSite,
    ...(domain !== undefined && { domain }),
    ...(prefix !== undefined && { prefix }),
  }

  return async function session(c, next) {
    if (insecureLocalhost && !isLoopback(c)) {
      return jsonError(
        400,
        'ERR_SESSION_INSECURE',
        'Plain-HTTP sessions are only allowed on localhost',
      )
    }
    const request = new HonoRequestLink(c)
    const s = new Session<Data>(runtime, request)
    const token = getCookie(c, cookieName, prefix)
    if (token !== undefined) {
      const opening = s[kOpen](token)
      if (opening) await opening
    }
    c.set('session', s)
    await next()
    // A handler that failed commits nothing: no half-applied request reaches the store.
    if (c.error) return
    let outcome: Outcome
    try {
      const finishing = s[kFinish]()
      outcome = finishing instanceof Promise ? await finishing : finishing
    } catch (err) {
      // every SessionError renders itself; anything else is the app's or a bug: Hono's onError
      if (!(err instanceof SessionError)) throw err
      c.res = err.getResponse()
      return
    }
    const action = outcome.cookie
    if (action.kind !== 'none') {
      const value = action.kind === 'set' ? action.token : ''
      const maxAge = action.kind === 'set' ? action.maxAge : 0
      const cookie = generateCookie(cookieName, value, { ...cookieOptions, maxAge })
      if (!nativeHeaders?.addCookie(c, cookie)) responseHeader(c, 'Set-Cookie', cookie, true)
    }
    // A touched session marked the response when first used (used()): on the server's own
    // response (Node's), where the mark holds, or on Hono's, which the handler may have
    // replaced (a raw Response drops prepared headers) or given a Cache-Control of its own.
    const marked = outcome.touched
      ? request.markedNatively
      : action.kind === 'none' || !!nativeHeaders?.noStore(c)
    if (!marked && (!outcome.touched || c.res.headers.get('Cache-Control') !== 'no-store')) {
      responseHeader(c, 'Cache-Control', 'no-store')
    }
  }
}

/** What a session asks of the Hono request it serves. */
class HonoRequestLink implements SessionRequest {
  readonly #c: Context
  /** Whether `used()` marked the server's own response (see `NativeHeaders`). */
  markedNatively = false

  constructor(c: Context) {
    this.#c = c
  }

  /** A short, non-identifying description of the client for "my devices". */
  userAgent(): string | undefined {
    return this.#c.req.header('User-Agent')?.slice(0, 200) || undefined
  }

  // Cache-Control goes on before the handler builds its response whenever that is possible:
  // a header added to a finished response makes Hono rebuild it (about a seventh of a
  // request's CPU on Node). The session reports its first use only.
  used(): void {
    this.markedNatively = !!nativeHeaders?.noStore(this.#c)
    if (!this.markedNatively) responseHeader(this.#c, 'Cache-Control', 'no-store')
  }
}

/** The origin (`scheme://host:port`) last found to be a loopback host: one per dev server. */
let loopbackOrigin = ''
/** Whether the request is for a loopback host. */
function isLoopback(c: Context): boolean {
  const url = c.req.url
  const known = loopbackOrigin.length
  if (known > 0 && url.startsWith(loopbackOrigin) && (url.length === known || url[known] === '/'))
    return true
  const { hostname: host, origin } = new URL(url)
  const loopback = isLoopbackHost(host)
  if (loopback) loopbackOrigin = origin
  return loopback
}
