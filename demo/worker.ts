import type { Context, ExecutionContext, Hono } from 'hono'
import { createDemoApp } from './app.js'
import { workerDemoConfig, type WorkerDemoConfig } from './config.js'
import { analyticsSink, logSample, type AnalyticsEngineDataset } from './observability.js'
import { MetricsRecorder } from '../src/metrics/index.js'
import { memoryStore } from '../src/store/memory.js'
import type { Store } from '../src/store/types.js'
import { upstashStore } from '../src/store/upstash.js'
import { isLoopbackHost } from '../src/util/loopback.js'

/** Bindings of the demo Worker (see wrangler.toml). */
export interface Env {
  /** The key ring, `kid:secret,...`; set with `wrangler secret put SESSION_KEYS`. */
  SESSION_KEYS?: string
  /** Upstash (or the project's gateway) REST URL and token; without them: memory store. */
  UPSTASH_REDIS_REST_URL?: string
  UPSTASH_REDIS_REST_TOKEN?: string
  /** Optional Workers Analytics Engine dataset: one data point per request (see wrangler.toml). */
  METRICS?: AnalyticsEngineDataset
  /** `0` turns the per-request JSON log line off (session events are always logged). */
  LOG_REQUESTS?: string
}

interface Apps {
  /** Secure cookies: every real deployment. */
  secure: Hono
  /** Plain-HTTP localhost (`wrangler dev`): no Secure flag, no prefix. */
  local: Hono
}

let cached: { signature: string; apps: Apps } | undefined

/**
 * Builds the demo apps once per isolate and configuration. Without Redis configured the store
 * is in memory: per isolate, lost on eviction, for development only.
 */
export function demoApps(
  env: Env,
  makeStore: (config: WorkerDemoConfig) => Store = storeFor,
): Apps {
  const signature = [
    env.SESSION_KEYS,
    env.UPSTASH_REDIS_REST_URL,
    env.UPSTASH_REDIS_REST_TOKEN,
  ].join('\n')
  if (cached?.signature === signature) return cached.apps
  const config = workerDemoConfig(env as Omit<Env, 'METRICS'>)
  const store = makeStore(config)
  const { keys } = config
  // One recorder per isolate: the dashboard shows this isolate's traffic; logs and Analytics
  // Engine see every isolate's.
  const metrics = new MetricsRecorder()
  metrics.subscribe((sample) => logSample(sample, config.logRequests))
  if (env.METRICS) metrics.subscribe(analyticsSink(env.METRICS))
  // Cloudflare sets CF-Connecting-IP itself on every request that reaches a Worker.
  const clientAddress = (c: Context) => c.req.header('CF-Connecting-IP')
  const apps = {
    secure: createDemoApp({ store, keys, metrics, clientAddress }) as unknown as Hono,
    local: createDemoApp({
      store,
      keys,
      metrics,
      clientAddress,
      insecureLocalhost: true,
    }) as unknown as Hono,
  }
  cached = { signature, apps }
  return apps
}

/** The Upstash store when both variables are set, else the memory store (with a warning). */
function storeFor({ upstash }: WorkerDemoConfig): Store {
  return upstash ? upstashStore(upstash) : memoryStoreWithWarning()
}

function memoryStoreWithWarning(): Store {
  console.warn(
    'hono-redis-session: no UPSTASH_REDIS_REST_URL/TOKEN configured, using the in-memory store: ' +
      'per isolate, lost on eviction, for development only',
  )
  return memoryStore()
}

/** True for plain-HTTP requests to a loopback host, as `wrangler dev` serves them. */
export function isLocalHttp(request: Request): boolean {
  const url = new URL(request.url)
  return url.protocol === 'http:' && isLoopbackHost(url.hostname)
}

/** Serves one request of the demo. Shared by the Worker and Pages Functions. */
export function fetchDemo(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
): Response | Promise<Response> {
  const apps = demoApps(env)
  return (isLocalHttp(request) ? apps.local : apps.secure).fetch(request, env, ctx)
}

export default { fetch: fetchDemo }
