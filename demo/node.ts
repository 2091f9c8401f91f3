import { createServer as createHttpsServer } from 'node:https'
// the package root as Node resolves it (the `node` condition): node:crypto for tokens
import '../src/node.js'
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { createDemoApp } from './app.js'
import { nodeDemoConfig } from './config.js'
import { MetricsRecorder, activeSessionsProbe } from '../src/metrics/index.js'
import { prometheusExporter } from '../src/metrics/prometheus.js'
import { prometheusEndpoint } from './node/metrics.js'
import { openStore } from './node/store-from-env.js'
import { forwardedClient, forwardedProto, openTransport } from './node/tls.js'

/**
 * The demo on Node: `npm start`. Environment (see the README; parsed by `nodeDemoConfig` in
 * `./config.ts`): `PORT` (default 8787), `HOST` (default 127.0.0.1), `SESSION_KEYS`, the store
 * variables of `storeChoiceFromEnv`, and
 * `SESSION_FAIL_OPEN=1` to serve requests as anonymous while the store is down (default 503).
 * Transport:
 * - `TLS_CERT` + `TLS_KEY` (PEM file paths): HTTPS, secure `__Host-` cookies;
 * - `TRUST_PROXY=1`: plain HTTP behind a TLS-terminating proxy (Nginx, HAProxy) that sets
 *   `X-Forwarded-Proto: https`; secure cookies; requests not forwarded as HTTPS get 400;
 * - neither: plain HTTP for localhost development only (the cookie drops `Secure`; other hosts
 *   get 400).
 * `GET /metrics` serves Prometheus text: with `METRICS_TOKEN` set it needs
 * `Authorization: Bearer <token>`; without it only loopback clients are answered.
 */
const config = nodeDemoConfig(process.env)
const transport = openTransport(config)

const { store, name } = openStore(config.store)
const metrics = new MetricsRecorder()
const activeSessions = activeSessionsProbe(store)
const prometheus = prometheusExporter(metrics, { activeSessions, defaultMetrics: true })

const app = createDemoApp({
  store,
  clientAddress: transport.trustProxy ? forwardedClient : (c) => getConnInfo(c).remote.address,
  keys: config.keys,
  insecureLocalhost: transport.mode === 'dev',
  onStoreError: config.failOpen ? 'fail-open' : 'fail-closed',
  metrics,
  activeSessions,
  metricsEndpoint: prometheusEndpoint(prometheus, config.metricsToken),
})

const serveApp = (request: Request, env?: unknown) => app.fetch(request, env)
const fetch = transport.trustProxy ? forwardedProto(serveApp) : serveApp
const { port, host: hostname } = config
const server = serve(
  transport.mode === 'https'
    ? {
        fetch,
        port,
        hostname,
        createServer: createHttpsServer,
        serverOptions: { cert: transport.cert, key: transport.key },
      }
    : { fetch, port, hostname },
  (info) => {
    const where =
      transport.mode === 'https'
        ? `https://localhost:${info.port}`
        : transport.mode === 'proxy'
          ? `http://${hostname}:${info.port} behind a TLS proxy (X-Forwarded-Proto trusted)`
          : `http://localhost:${info.port}`
    console.log(`hono-redis-session demo on ${where} (store: ${name})`)
  },
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(async () => {
      await store.close?.()
      process.exit(0)
    })
    setTimeout(() => process.exit(0), 3000).unref()
  })
}
