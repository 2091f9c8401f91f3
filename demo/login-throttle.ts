import { rateLimiter, type RateLimiter } from '../src/index.js'
import type { Store } from '../src/store/types.js'
import { checkLogin } from './users.js'

/** Password checks allowed per window: per user name, and per client address. */
export const LOGIN_LIMITS = { perUser: 10, perClient: 100, windowMs: 15 * 60_000 } as const

/** What a throttled password check found. */
export type PasswordCheck =
  | { kind: 'ok'; roles: string[] }
  | { kind: 'wrong' }
  | { kind: 'throttled'; retryAfterSeconds: number }

/**
 * Password checks behind failure limits, built on the library's rate limiter (one atomic store
 * call per count): a check is reserved on the user name's limiter and the client's before the
 * password is compared (so parallel guesses cannot pass the limit), and given back when the
 * password is right (only failures count). The two limiters are named apart (`login-user`,
 * `login-client`), so a user name can never be taken for a client address; their keys are
 * hashed before they reach the store. A failing store is a 503 with Retry-After
 * (`StoreError`), as for the session's own store calls.
 */
export function loginThrottle(store: Store, limits = LOGIN_LIMITS, now?: () => number) {
  const { windowMs } = limits
  const perUser = rateLimiter({ store, name: 'login-user', limit: limits.perUser, windowMs, now })
  const perClient = rateLimiter({
    store,
    name: 'login-client',
    limit: limits.perClient,
    windowMs,
    now,
  })

  return {
    /** Checks `password` for `username`; `client` is the connection's address when known. */
    async check(
      username: string,
      password: unknown,
      client: string | undefined,
    ): Promise<PasswordCheck> {
      const list: [RateLimiter, string][] = [[perUser, username]]
      if (client) list.push([perClient, client])
      const taken = await Promise.all(list.map(([limiter, key]) => limiter.take(key)))
      const giveBack = (which: (allowed: boolean) => boolean) =>
        Promise.all(
          list
            .filter((_, i) => which(taken[i]!.allowed))
            .map(([limiter, key]) => limiter.giveBack(key)),
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
