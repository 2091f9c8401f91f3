/**
 * The architecture rules (.dependency-cruiser.cjs) hold on the tree, and they catch what they
 * forbid: a fixture tree breaks each rule once and depcruise names every break.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const bin = path.resolve('node_modules/.bin/depcruise')
const config = path.resolve('.dependency-cruiser.cjs')

async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(bin, ['src/**/*.ts', '--config', config, '--output-type', 'err'], {
      cwd,
      timeout: 60_000,
    })
    return { code: 0, out: stdout }
  } catch (err) {
    const e = err as { code: number; stdout: string }
    return { code: e.code, out: e.stdout }
  }
}

describe('architecture rules', () => {
  it('the source tree has no forbidden import', { timeout: 90_000 }, async () => {
    const { code, out } = await cruise(process.cwd())
    expect(out).toContain('no dependency violations found')
    expect(code).toBe(0)
  })

  it('a tree that breaks every rule fails with each rule named', { timeout: 90_000 }, async () => {
    const { code, out } = await cruise(path.resolve('test/fixtures/architecture'))
    expect(code).not.toBe(0)
    for (const rule of [
      'edge-entry-pulls-node: src/index.ts → fs',
      'library-imports-demo: src/helper.ts → demo/app.ts',
      'session-imports-a-store: src/session/core.ts → src/store/memory.ts',
      'store-imports-hono-or-session: src/store/memory.ts → src/session/core.ts',
      'no-circular:',
    ])
      expect(out).toContain(rule)
  })
})
