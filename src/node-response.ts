/**
 * The session's `Cache-Control` and `Set-Cookie` written to Node's server response under
 * `@hono/node-server` (installed by the package's `node` entry; edge bundles never see it).
 */
import type { Context } from 'hono'
import type { NativeHeaders } from './response-headers.js'

/** What `@hono/node-server` passes as `c.env.outgoing`: Node's (or HTTP/2's) server response. */
interface NodeResponse {
  headersSent: boolean
  getHeader(name: string): unknown
  setHeader(name: string, value: string | string[]): unknown
  writeHead(...args: unknown[]): unknown
  [kMarks]?: Marks
}

/** What the session put on a Node response, applied when the response is written. */
interface Marks {
  writeHead: (...args: unknown[]) => unknown
  noStore: boolean
  cookies: string[] | undefined
}

const kMarks = Symbol('hono-redis-session.marks')

/*
 * Why the session writes its two headers to the Node response on @hono/node-server rather than
 * through Hono: any header set on a Hono response makes Hono and the Node adapter use undici's
 * `Headers` for it (validation, a sorted copy for the socket), where a plain `c.json()` is
 * written as it is: about 33 k of a read's 284 k instructions, 57 k of a login's 477 k. A header
 * set on the Node response is merged into `writeHead`'s, which would let the response's own
 * win: `writeHead` drops the response's `Cache-Control` and adds the session's cookies to the
 * response's, so the outcome is the Hono path's, and holds against middleware that runs later.
 */

/** The Node response that will carry this request's answer, while nothing is written yet. */
function marksOf(c: Context): Marks | undefined {
  const out = (c.env as { outgoing?: Partial<NodeResponse> } | undefined)?.outgoing
  if (
    !out ||
    out.headersSent !== false ||
    typeof out.getHeader !== 'function' ||
    typeof out.setHeader !== 'function' ||
    typeof out.writeHead !== 'function'
  )
    return undefined
  const res = out as NodeResponse
  if (!res[kMarks]) {
    res[kMarks] = { writeHead: res.writeHead, noStore: false, cookies: undefined }
    res.writeHead = writeHeadWithMarks
  }
  return res[kMarks]
}

/**
 * The session's headers on the Node response that will carry the answer, when the app runs on
 * `@hono/node-server` and nothing is written yet.
 */
export const nodeResponseHeaders: NativeHeaders = {
  noStore(c) {
    const marks = marksOf(c)
    if (marks) marks.noStore = true
    return marks !== undefined
  },
  addCookie(c, cookie) {
    const marks = marksOf(c)
    if (marks) (marks.cookies ??= []).push(cookie)
    return marks !== undefined
  },
}

/** `writeHead(status[, message][, headers])` with the marks applied over `headers`. */
function writeHeadWithMarks(this: NodeResponse, ...args: unknown[]): unknown {
  const { noStore, cookies } = this[kMarks]!
  const at = typeof args[1] === 'string' ? 2 : 1
  const theirs: string[] | undefined = cookies && []
  if (args[at] !== undefined) args[at] = withoutMarked(args[at], noStore, theirs)
  if (noStore) this.setHeader('Cache-Control', 'no-store')
  if (cookies && theirs) {
    // the response's own cookies would replace any set on the Node response: keep both kinds
    const base = theirs.length > 0 ? theirs : lines(this.getHeader('Set-Cookie'))
    this.setHeader('Set-Cookie', [...base, ...cookies])
  }
  return this[kMarks]!.writeHead.apply(this, args)
}

const lines = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]

const isName = (name: unknown, lower: string): boolean =>
  typeof name === 'string' && name.length === lower.length && name.toLowerCase() === lower

/**
 * `headers` (Node's two forms: an object, or a flat `[name, value, ...]` list) without its
 * `Cache-Control` when `dropCacheControl`, and without its `Set-Cookie` lines, moved into
 * `cookies`, when that is given.
 */
function withoutMarked(headers: unknown, dropCacheControl: boolean, cookies?: string[]): unknown {
  const marked = (name: unknown) =>
    (dropCacheControl && isName(name, 'cache-control')) ||
    (cookies !== undefined && isName(name, 'set-cookie'))
  const take = (name: unknown, value: unknown) => {
    if (cookies && isName(name, 'set-cookie')) cookies.push(...lines(value))
  }
  if (Array.isArray(headers)) {
    const kept: unknown[] = []
    for (let i = 0; i < headers.length; i += 2) {
      if (marked(headers[i])) take(headers[i], headers[i + 1])
      else kept.push(headers[i], headers[i + 1])
    }
    return kept
  }
  if (headers === null || typeof headers !== 'object') return headers
  const record = headers as Record<string, unknown>
  let found = false
  for (const name in record) if (marked(name)) found = true
  if (!found) return headers
  const kept: Record<string, unknown> = {}
  for (const name in record) {
    if (marked(name)) take(name, record[name])
    else kept[name] = record[name]
  }
  return kept
}
