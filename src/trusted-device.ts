import type { Context } from 'hono'
import { base64url } from 'jose'
import { getCookie, setCookie } from 'hono/cookie'
import type { CookieOptions } from 'hono/utils/cookie'
import { SessionError, SessionRequiredError, StoreError, StoreTimeoutError } from './errors.js'
import { meetsMethod } from './methods.js'
import type { Session } from './session/session.js'
import type { Actor, Store } from './store/types.js'
import { KeyRing, type TokenKey } from './token.js'
import { timingSafeEqual } from './util/compare.js'
import { withTimeout } from './util/timeout.js'

/**
 * Trusted devices: "don't ask for the code again on this device for N days". After a
 * successful step-up the app sets a second cookie, sealed (JWE `dir` + A256GCM, the key ring)
 * and bound to the user and to the user's trust epoch, a random value kept per user in the
 * store. A later sign-in with the password on that device counts as a sign-in with both
 * factors: `amr` `['pwd', 'trusted']`, auth time the sign-in. Replacing the epoch (`revoke`:
 * on log out everywhere, on a change of the second factor) kills every such cookie at once.
 *
 * What `trusted` is worth: `requireFreshAuth({ methods: ['otp'] })` takes it for `otp` within
 * `maxAge` of the sign-in, as it would a code typed at that sign-in, never longer, and never
 * with `alwaysFresh: true`. The TOTP module's factor changes (replace, remove) always need
 * the code itself.
 */

/** The `amr` value of a sign-in on a trusted device. */
export const TRUSTED_METHOD = 'trusted'

/**
 * Whether `amr` satisfies `method` for a freshness check: the method itself or one of its class
 * (a backup code for `otp`, see `methods.ts`), or for `otp` a sign-in on a trusted device, unless
 * the operation is always-fresh.
 */
export function satisfiesMethod(amr: readonly string[], method: string, alwaysFresh: boolean) {
  if (meetsMethod(amr, method)) return true
  return method === 'otp' && !alwaysFresh && amr.includes(TRUSTED_METHOD)
}

/** Options of {@link trustedDevices}. */
export interface TrustedDeviceOptions {
  /** The key ring that seals the cookie, `[{ kid, secret }]` (the session's keys serve). Required. */
  keys: readonly TokenKey[]
  /** Where the per-user trust epoch lives: the session's store. Required. */
  store: Store
  /** How long a device stays trusted, seconds. Default 2592000 (30 days). */
  maxAge?: number
  /** The cookie's name, `__Host-` prefixed unless `insecureLocalhost`. Default `trusted-device`. */
  cookieName?: string
  /** Plain-HTTP localhost development: no `Secure`, no prefix (as the session option). */
  insecureLocalhost?: boolean
  /** Bound of each store call when the store does not bound its own, milliseconds. Default 1000. */
  timeoutMs?: number
}

/** The per-user value holding the trust epoch. */
const EPOCH = 'trusted-device-epoch'
const EPOCH_TEXT = /^[A-Za-z0-9_-]{22}$/
/** Sealed cookies are about 250 characters; anything much longer is not ours. */
const MAX_COOKIE_LENGTH = 1024
/** The payload's type: a session token opened as a trust cookie (or back) never passes. */
const TYP = 'trusted-device'

interface TrustClaims {
  typ: typeof TYP
  uid: string
  /** The user's trust epoch when the cookie was issued. */
  ep: string
  iat: number
  /** Seconds since the epoch. */
  exp: number
}

/**
 * Creates the trusted-device helpers.
 *
 * @param options.keys the key ring, required
 * @param options.store the session's store, required
 * @param options.maxAge seconds a device stays trusted; default 30 days
 * @param options.cookieName default `trusted-device` (sent as `__Host-trusted-device`)
 *
 * @example
 * ```ts
 * const devices = trustedDevices({ keys, store })
 * app.post('/2fa/verify', async (c) => {
 *   const s = c.get('session')
 *   const form = await c.req.parseBody()
 *   const result = await otp.verify(s, form.code)
 *   if (form.remember === 'on') await devices.remember(c, s, result)
 *   return c.json(result, result.ok ? 200 : 401)
 * })
 * app.post('/login', async (c) => {
 *   // ... the password is right for `user`
 *   const s = c.get('session')
 *   const trusted = await devices.recognise(c, s, user)
 *   s.authenticate(user, { amr: trusted ? ['pwd', 'trusted'] : ['pwd'] })
 * })
 * app.post('/logout-all', async (c) => {
 *   await devices.revoke(c.get('session'), { sessions: false })
 *   return c.json({ destroyed: await c.get('session').destroyAll() })
 * })
 * ```
 */
export function trustedDevices(options: TrustedDeviceOptions) {
  const {
    keys,
    store,
    maxAge = 30 * 86_400,
    cookieName = 'trusted-device',
    insecureLocalhost = false,
    timeoutMs = 1000,
  } = options
  const ring = new KeyRing(keys)
  if (!store) throw new Error('trustedDevices() option "store" is required')
  if (!Number.isSafeInteger(maxAge) || maxAge <= 0)
    throw new Error('trustedDevices() option "maxAge" must be positive whole seconds')
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cookieName))
    throw new Error('trustedDevices() option "cookieName" must match [A-Za-z0-9_-]{1,64}')
  const prefix = insecureLocalhost ? undefined : ('host' as const)
  const cookieOptions: CookieOptions = {
    path: '/',
    httpOnly: true,
    secure: !insecureLocalhost,
    // only the sign-in form of the same site needs it
    sameSite: 'Strict',
    ...(prefix && { prefix }),
  }

  /** A store call, bounded, failing only with a typed store error (503, as the session's). */
  const call = <T>(work: Promise<T>): Promise<T> => {
    const typed = (err: unknown) =>
      err instanceof SessionError ? err : new StoreError('trusted devices unavailable')
    const bounded =
      store.timeoutMs !== undefined
        ? work
        : withTimeout(work, timeoutMs, () => new StoreTimeoutError('trusted devices timed out'))
    return bounded.catch((err: unknown) => Promise.reject(typed(err)))
  }

  /**
   * The acting session of the user, from its token (no store call): each per-user call checks
   * it is live in the same atomic step, so a dead token changes nothing.
   */
  const actorOf = (session: Session): { uid: string; actor: Actor } => {
    const { userId: uid, id } = session
    if (uid === undefined || id === undefined) throw new SessionRequiredError()
    return { uid, actor: { id, now: session.now() } }
  }

  const clear = (c: Context) =>
    setCookie(c, cookieName, '', { ...cookieOptions, maxAge: 0, expires: new Date(0) })

  /** This device's claims when the cookie opens and is ours; null otherwise. */
  const claimsOf = async (c: Context, now: number): Promise<TrustClaims | null> => {
    const value = getCookie(c, cookieName, prefix)
    if (value === undefined || value.length > MAX_COOKIE_LENGTH) return null
    const text = await ring.openValue(value)
    if (text === null) return null
    try {
      const p = JSON.parse(text) as Record<string, unknown>
      const ok =
        p?.typ === TYP &&
        typeof p.uid === 'string' &&
        typeof p.ep === 'string' &&
        EPOCH_TEXT.test(p.ep) &&
        Number.isSafeInteger(p.exp) &&
        Math.floor(now / 1000) < (p.exp as number)
      return ok ? (p as unknown as TrustClaims) : null
    } catch {
      return null
    }
  }

  return {
    /**
     * After a successful step-up in this request (`verified.ok`), trusts this device for
     * `maxAge`: sets the cookie. Nothing happens for a failed one.
     * @returns whether the device is now trusted
     * @throws SessionRequiredError when the session is not live
     */
    async remember(c: Context, session: Session, verified: { ok: boolean }): Promise<boolean> {
      if (verified.ok !== true) return false
      const { uid, actor } = actorOf(session)
      let ep = await call(store.getUserValue(uid, EPOCH, actor))
      if (ep === null || !EPOCH_TEXT.test(ep)) {
        ep = newEpoch()
        await call(store.setUserValue(uid, EPOCH, ep, actor))
      }
      const iat = Math.floor(session.now() / 1000)
      const claims: TrustClaims = { typ: TYP, uid, ep, iat, exp: iat + maxAge }
      setCookie(c, cookieName, await ring.sealValue(JSON.stringify(claims)), {
        ...cookieOptions,
        maxAge,
      })
      return true
    },

    /**
     * At sign-in, once the password of `userId` is verified: whether this device is trusted
     * for that user (the cookie opens, is unexpired, names `userId` and the user's current
     * epoch). One store read when a cookie for the user is present, none otherwise. A cookie
     * that no longer holds is cleared; one of another user is left alone.
     */
    async recognise(c: Context, session: Session, userId: string): Promise<boolean> {
      if (getCookie(c, cookieName, prefix) === undefined) return false
      const claims = await claimsOf(c, session.now())
      if (claims === null) {
        clear(c)
        return false
      }
      if (claims.uid !== userId) return false
      const current = await call(store.getUserValue(userId, EPOCH))
      const held =
        current !== null &&
        EPOCH_TEXT.test(current) &&
        timingSafeEqual(base64url.decode(current), base64url.decode(claims.ep))
      if (!held) clear(c)
      return held
    },

    /**
     * Every trusted device of the session's user stops being trusted (a new epoch), and with
     * `sessions` (default true) `trusted` stops counting in every live session of the user
     * (one more store call; skip it right before `destroyAll()`). Call it on log out
     * everywhere and whenever the second factor is replaced or removed.
     * @throws SessionRequiredError when the session is not live
     */
    async revoke(session: Session, { sessions = true }: { sessions?: boolean } = {}) {
      const { uid, actor } = actorOf(session)
      await call(store.setUserValue(uid, EPOCH, newEpoch(), actor))
      if (sessions) await session.revokeMethod(TRUSTED_METHOD)
    },

    /** Stops trusting this device only: clears its cookie. */
    forget(c: Context): void {
      clear(c)
    },
  }
}

/** The type of the helpers {@link trustedDevices} returns. */
export type TrustedDevices = ReturnType<typeof trustedDevices>

/** A new trust epoch: 16 random bytes, base64url. */
function newEpoch(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(16)))
}
