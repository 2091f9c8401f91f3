import { SessionError, StoreError } from '../src/errors.js'
import type { HitOptions, Store } from '../src/store/types.js'
import { checkLogin } from './users.js'

/** Password checks allowed per window: per user name, and per client address. */
export const LOGIN_LIMITS = { perUser: 10, perClient: 100, windowMs: 15 * 60_000 } as const

/** What a throttled password check found. */
export type PasswordCheck =
  | { kind: 'ok'; roles: string[] }
  | { kind: 'wrong' }
  | { kind: 'throttled'; retryAfterSeconds: number }

/**
 * Password checks behind failure limits, built on the store's atomic counters: a check is
 * reserved on the user name's counter and the client's before the password is compared (so
 * parallel guesses cannot pass the limit), and given back when the password is right (only
 * failures count). The counters are per-user items, named apart so that a user name can never
 * be taken for a client address: `login-user-failures` in the user's slot,
 * `login-client-failures` in the address's.
 */
export function loginThrottle(store: Store, limits = LOGIN_LIMITS) {
  const { windowMs } = limits
  // a failing store is a 503 with Retry-After, as for the session's own store calls
  const hit = (uid: string, name: string, options: HitOptions) =>
    store.hit(uid, name, options).catch((err: unknown) => {
      throw err instanceof SessionError ? err : new StoreError('login throttle unavailable')
    })
  const counters = (username: string, client: string | undefined) => [
    { uid: username, name: 'login-user-failures', limit: limits.perUser },
    ...(client ? [{ uid: client, name: 'login-client-failures', limit: limits.perClient }] : []),
  ]

  return {
    /** Checks `password` for `username`; `client` is the connection's address when known. */
    async check(
      username: string,
      password: unknown,
      client: string | undefined,
    ): Promise<PasswordCheck> {
      const list = counters(username, client)
      const taken = await Promise.all(
        list.map((k) => hit(k.uid, k.name, { windowMs, limit: k.limit })),
      )
      const giveBack = (which: (allowed: boolean) => boolean) =>
        Promise.all(
          list
            .filter((_, i) => which(taken[i]!.allowed))
            .map((k) => hit(k.uid, k.name, { windowMs, by: -1 })),
        )
      if (taken.some((t) => !t.allowed)) {
        // a refused attempt uses up no budget anywhere
        await giveBack((allowed) => allowed)
        const resetMs = Math.max(...taken.filter((t) => !t.allowed).map((t) => t.resetMs))
        return { kind: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(resetMs / 1000)) }
      }
      const roles = await checkLogin(username, password)
      if (!roles) return { kind: 'wrong' }
      await giveBack(() => true)
      return { kind: 'ok', roles }
    },
  }
}
