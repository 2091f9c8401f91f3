/**
 * Edge bundles: importing `.` (or `./memory`, `./upstash`, `./totp`, `./metrics`) never pulls in
 * ioredis, an exporter peer (prom-client, @opentelemetry/*) or a Node built-in, and the demo
 * Worker stays within its gzip budget (`npm run size`, which CI runs here and which prints the
 * size).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { bundle } from '../../scripts/bundle.js'

describe('edge bundles', () => {
  for (const entry of [
    'src/index.ts',
    'src/store/memory.ts',
    'src/store/upstash.ts',
    'src/totp.ts',
    'src/metrics/index.ts',
  ]) {
    it(`${entry} has no ioredis, no exporter peer and no Node built-in`, async () => {
      const report = await bundle(entry)
      expect(report.inputs.filter((i) => i.includes('ioredis'))).toEqual([])
      expect(report.nodeBuiltins).toEqual([])
      expect(
        report.inputs.filter((i) => /node_modules\/(prom-client|@opentelemetry)\//.test(i)),
      ).toEqual([])
      console.log(`${entry}: ${(report.gzipBytes / 1024).toFixed(1)} KiB gzip`)
    })
  }

  it('the ./metrics entry is the recorder and its middleware, and small', async () => {
    const report = await bundle('src/metrics/index.ts')
    expect(report.inputs.filter((i) => i.startsWith('src/')).sort()).toEqual([
      'src/metrics/active-sessions.ts',
      'src/metrics/index.ts',
      'src/metrics/labels.ts',
      'src/metrics/middleware.ts',
      'src/metrics/recorder.ts',
      'src/util/timeout.ts',
    ])
    expect(report.gzipBytes).toBeLessThan(4 * 1024)
  })

  it('the ./upstash entry leaves out the plain reads only ioredis uses', async () => {
    // the Upstash store always runs the load script (a REST endpoint may read from a replica)
    const upstash = await bundle('src/store/upstash.ts')
    expect(upstash.inputs).not.toContain('src/store/redis/fast-read.ts')
    expect(upstash.inputs).toContain('src/store/redis/load.ts')
  })

  it('the middleware alone is small', async () => {
    const report = await bundle('src/index.ts')
    expect(report.gzipBytes).toBeLessThan(25 * 1024)
  })

  it('npm run size: the demo Worker is within 68 KiB gzip', { timeout: 120_000 }, async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'size'], {
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    })
    console.log(stdout.trim())
    expect(stdout).toMatch(
      /demo Worker \(wrangler, minified\): .* gzip [\d.]+ KiB = \d+ B \(budget 68\.0 KiB\)/,
    )
  })
})
