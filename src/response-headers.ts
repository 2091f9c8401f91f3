import type { Context } from 'hono'

/**
 * Sets a header on the response as it is, or on the one about to be built: directly on its
 * headers (as Hono's own middleware does), falling back to `c.header()`, which copies the
 * response, when those headers are immutable (a response from `fetch()`).
 */
export function responseHeader(c: Context, name: string, value: string, append = false): void {
  if (!c.finalized) return c.header(name, value, { append })
  try {
    if (append) c.res.headers.append(name, value)
    else c.res.headers.set(name, value)
  } catch {
    c.header(name, value, { append })
  }
}

/**
 * Puts one of the session's headers on the server's own response, where the runtime has one
 * that is cheaper to write to than Hono's (the package's `node` entry installs
 * `./node-response.ts`); each returns whether it did, and the caller uses Hono's otherwise.
 */
export interface NativeHeaders {
  /** Marks the response `Cache-Control: no-store`, whatever the response itself says. */
  noStore(c: Context): boolean
  /** Adds a `Set-Cookie` line after the response's own. */
  addCookie(c: Context, cookie: string): boolean
}

/** The runtime's {@link NativeHeaders}, if it has them (a live binding). */
export let nativeHeaders: NativeHeaders | undefined

/** Installs the runtime's {@link NativeHeaders} (the `node` entry does this once, at import). */
export function useNativeHeaders(headers: NativeHeaders): void {
  nativeHeaders = headers
}
