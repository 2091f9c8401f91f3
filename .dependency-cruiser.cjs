/**
 * The arrows that must never exist, checked by `npm test` (`npm run deps`). Paths are relative
 * to the folder depcruise runs in (the repository; a fixture tree in test/package/architecture.test.ts).
 */
const { builtinModules } = require('node:module')

/** The demo app and its entries: outside the library, never imported by it. */
const DEMO = '^(demo|functions)/'
/** Node built-ins, as depcruise names them (with or without `node:`). */
const NODE_CORE = `^(node:)?(${builtinModules.filter((m) => !m.startsWith('_')).join('|')})$`
const EDGE_ENTRIES = '^src/(index|store/memory|store/upstash|totp|metrics/index)[.]ts$'
module.exports = {
  forbidden: [
    {
      name: 'edge-entry-pulls-node',
      comment:
        'The package root and the edge entries (memory, upstash, totp, metrics) must not pull in ioredis, an exporter peer or a Node built-in: Worker bundles stay small.',
      severity: 'error',
      from: { path: EDGE_ENTRIES },
      to: {
        reachable: true,
        path: `(^|/)node_modules/(ioredis|commander|prom-client|@opentelemetry/[^/]+)/|${NODE_CORE}`,
      },
    },
    {
      name: 'prom-client-outside-its-entry',
      comment:
        'prom-client is an optional peer: only ./metrics/prometheus imports it, so no other entry needs it installed.',
      severity: 'error',
      from: { pathNot: '^src/metrics/prometheus[.]ts$' },
      to: { path: '(^|/)node_modules/prom-client/' },
    },
    {
      name: 'opentelemetry-outside-its-entry',
      comment:
        '@opentelemetry/api is an optional peer: only ./metrics/opentelemetry imports it, so no other entry needs it installed.',
      severity: 'error',
      from: { pathNot: '^src/metrics/opentelemetry[.]ts$' },
      to: { path: '(^|/)node_modules/@opentelemetry/' },
    },
    {
      name: 'session-imports-a-store',
      comment: 'The session core works against the Store interface, never a concrete store.',
      severity: 'error',
      from: { path: '^src/session([.]ts$|/)' },
      to: { path: '^src/store/(memory|ioredis|ioredis-connect|upstash|write-batching|redis/)' },
    },
    {
      name: 'store-imports-hono-or-session',
      comment: 'Stores know nothing of Hono, the middleware or the session.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '(^|/)node_modules/hono/|^src/(session|middleware|guards|runtime)([.]ts$|/)' },
    },
    {
      name: 'library-imports-demo',
      comment: 'The library never imports the demo app or its entries.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: DEMO },
    },
    {
      name: 'vitest-outside-testing',
      comment:
        'Only the conformance suite (src/testing, the ./testing entry) imports vitest, an optional peer: no other entry may need it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testing/' },
      to: { path: '(^|/)node_modules/(vitest|@vitest/[^/]+)/' },
    },
    {
      name: 'library-imports-testing',
      comment:
        'Nothing outside src/testing imports it, so the package root and every other entry never reach vitest or the suite.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testing/' },
      to: { path: '^src/testing/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'worker', 'browser', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
}
