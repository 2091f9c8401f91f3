/**
 * The bounded label values of every metric: a request is labelled with a route class (from the
 * matched route pattern, never the raw path) and a method from a fixed list, so a client cannot
 * create series by sending new paths, ids or method tokens.
 */

/** Route classes: a handful of labels, whatever the URL. `other` is an unmatched route (404). */
export type RouteClass = 'page' | 'api' | 'auth' | 'static' | 'health' | 'other'

/** Maps a matched route pattern (e.g. `/api/sessions/:id`) and the method to a class. */
export type RouteClassifier = (pattern: string, method: string) => RouteClass

/**
 * The default classifier: `/healthz`, `/readyz`, `/metrics` are `health`; a pattern ending in a
 * file extension other than `.json` is `static`; login, logout, 2FA and password routes are
 * `auth`; `/api/...` and `.json` are `api`; everything else is a `page`.
 */
export function classifyRoute(pattern: string): RouteClass {
  if (/^\/(healthz|readyz|livez|metrics)$/.test(pattern)) return 'health'
  if (/\.(?!json$)[a-z0-9]+$/i.test(pattern)) return 'static'
  if (/(^|\/)(login|logout|logout-all|2fa|password|revoke)(\/|$)/.test(pattern)) return 'auth'
  if (pattern.startsWith('/api/') || pattern.endsWith('.json')) return 'api'
  return 'page'
}

/** The methods kept as labels; any other token a client sends is counted as `OTHER`. */
export const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** The method label of a request: one of {@link METHOD_LABELS}, else `OTHER`. */
export function methodLabel(method: string): string {
  const upper = method.toUpperCase()
  return (METHOD_LABELS as readonly string[]).includes(upper) ? upper : 'OTHER'
}
