import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { bundle } from './bundle.js'

/**
 * `npm run size`: builds the demo Worker with `wrangler deploy --dry-run --outdir`, prints the
 * gzip size of the bundle and fails above the budget; then checks that the library's edge
 * entries pull in neither ioredis, an exporter peer (prom-client, @opentelemetry) nor any Node
 * built-in.
 */
const WORKER_BUDGET = 68 * 1024
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`

const out = mkdtempSync(join(tmpdir(), 'hrs-size-'))
let failed = false
try {
  execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', out], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  })
  const file = readdirSync(out).find((f) => f.endsWith('.js'))!
  const code = readFileSync(join(out, file))
  const gz = gzipSync(code).byteLength
  console.log(
    `demo Worker (wrangler, minified): ${kib(code.byteLength)}, gzip ${kib(gz)} = ${gz} B (budget ${kib(WORKER_BUDGET)})`,
  )
  if (gz > WORKER_BUDGET) {
    console.error(`size: the demo Worker is over budget by ${kib(gz - WORKER_BUDGET)}`)
    failed = true
  }
} finally {
  rmSync(out, { recursive: true, force: true })
}

for (const entry of [
  'src/index.ts',
  'src/store/memory.ts',
  'src/store/upstash.ts',
  'src/totp.ts',
  'src/metrics/index.ts',
]) {
  const report = await bundle(entry)
  const pulled = report.inputs.filter((i) =>
    /node_modules\/(ioredis|prom-client|@opentelemetry)\//.test(i),
  )
  console.log(
    `${entry}: gzip ${kib(report.gzipBytes)} = ${report.gzipBytes} B, ${report.inputs.length} modules`,
  )
  if (pulled.length || report.nodeBuiltins.length) {
    console.error(`size: ${entry} pulls in ${[...pulled, ...report.nodeBuiltins].join(', ')}`)
    failed = true
  }
}
process.exit(failed ? 1 : 0)
