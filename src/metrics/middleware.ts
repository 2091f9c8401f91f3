import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { classifyRoute, type RouteClass, type RouteClassifier } from './labels.js'
import type { MetricsRecorder } from './recorder.js'

/** Options of {@link metricsMiddleware}. */
export interface MetricsMiddlewareOptions {
  /** Maps the matched route pattern and the method to a route class. Default {@link classifyRoute}. */
  classify?: RouteClassifier
}

/**
 * Times every request and records it in `recorder`, labelled with the class of its matched route
 * pattern (never the raw path), the method and the status code. Mount it before `session()` so
 * the time includes the session's commit; a handler that throws is recorded with status 500.
 *
 * @param recorder - where requests are recorded (see `metricsRecorder`)
 * @param options.classify - route pattern to class; default {@link classifyRoute}
 * @example
 * ```ts
 * const metrics = metricsRecorder()
 * app.use(metricsMiddleware(metrics))
 * app.use(session({ keys, store, onEvent: metrics.onEvent }))
 * ```
 */
export function metricsMiddleware(
  recorder: MetricsRecorder,
  options: MetricsMiddlewareOptions = {},
): MiddlewareHandler {
  const { classify = classifyRoute } = options
  if (typeof classify !== 'function')
    throw new Error('Metrics middleware option "classify" must be a function')
  return async function metricsMiddleware(c, next) {
    const started = performance.now()
    try {
      await next()
    } finally {
      const status = c.res?.status ?? 500
      const routeClass = routeClassOf(c, classify)
      recorder.recordRequest(routeClass, c.req.method, status, performance.now() - started)
    }
  }
}

/** The class of the most specific matched route (wildcard middleware ignored), else `other`. */
export function routeClassOf(c: Context, classify: RouteClassifier = classifyRoute): RouteClass {
  const routes = matchedRoutes(c).filter((r) => r.path !== '*' && r.path !== '/*')
  const pattern = routes[routes.length - 1]?.path
  return pattern === undefined ? 'other' : classify(pattern, c.req.method)
}
