/** Routes, session set-up and cookies, shared by the bench tools. */

/** The request each variant sends (the profile and instructions tools drive one route). */
export const ROUTES = {
  read: ['GET', '/read'],
  write: ['POST', '/write'],
  'write-get-set': ['POST', '/write-get-set'],
  'write-blind': ['POST', '/write-blind'],
  'many-fields': ['POST', '/many'],
  login: ['POST', '/login'],
} as const
export type RouteVariant = keyof typeof ROUTES

/** Starts a session the way the variant needs it (50 fields for many-fields): its Cookie header. */
export async function setupCookie(base: string, variant: RouteVariant): Promise<string> {
  const res = await fetch(`${base}/setup${variant === 'many-fields' ? '?fields=50' : ''}`)
  if (res.status !== 200) throw new Error(`${base}/setup answered ${res.status}`)
  return cookieHeader(res.headers.getSetCookie())
}

/** The Cookie header a browser sends back for these Set-Cookie values. */
export function cookieHeader(setCookies: string[]): string {
  return setCookies.map((c) => c.split(';')[0]).join('; ')
}
