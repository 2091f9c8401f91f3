import { timingSafeEqual } from '../src/util/compare.js'

/** The demo's users. A real app checks a password hash (argon2/scrypt) from its database. */
const USERS: Record<string, { password: string; roles: string[] }> = {
  alice: { password: 'alice-password', roles: ['user'] },
  admin: { password: 'admin-password', roles: ['user', 'admin'] },
}

/** Checks a login in time independent of where the password differs; returns the roles or null. */
export async function checkLogin(username: unknown, password: unknown): Promise<string[] | null> {
  if (typeof username !== 'string' || typeof password !== 'string') return null
  const user = Object.hasOwn(USERS, username) ? USERS[username] : undefined
  const ok = await equalDigests(password, user?.password ?? 'no such user: compare anyway')
  return user && ok ? [...user.roles] : null
}

/** Compares SHA-256 digests of both, so neither the length nor the first difference shows. */
async function equalDigests(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder()
  const [x, y] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(a)),
    crypto.subtle.digest('SHA-256', enc.encode(b)),
  ])
  return timingSafeEqual(new Uint8Array(x), new Uint8Array(y))
}
