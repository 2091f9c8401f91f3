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

async function equalDigests(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder()
  const [x, y] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(a)),
    crypto.subtle.digest('SHA-256', enc.encode(b)),
  ])
  const p = new Uint8Array(x)
  const q = new Uint8Array(y)
  let diff = 0
  for (let i = 0; i < p.length; i++) diff |= p[i]! ^ q[i]!
  return diff === 0
}
