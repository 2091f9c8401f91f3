/**
 * The architecture rules (.dependency-cruiser.cjs) hold on the tree, and they catch what they
 * forbid: a fixture tree breaks each rule once and depcruise names every break. Module sizes
 * are bounded too (issue 16): no file under src/ over 350 lines, no class over 300.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
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
      'edge-entry-pulls-node: src/metrics/index.ts → ../../../node_modules/prom-client/',
      'edge-entry-pulls-node: src/metrics/index.ts → ../../../node_modules/@opentelemetry/api/',
      'prom-client-outside-its-entry: src/metrics/index.ts → ../../../node_modules/prom-client/',
      'opentelemetry-outside-its-entry: src/metrics/index.ts → ../../../node_modules/@opentelemetry/api/',
      'library-imports-demo: src/helper.ts → demo/app.ts',
      'session-imports-a-store: src/session/core.ts → src/store/memory.ts',
      'store-imports-hono-or-session: src/store/memory.ts → src/session/core.ts',
      'no-circular:',
      'vitest-outside-testing: src/totp.ts → ../../../node_modules/vitest/',
      'library-imports-testing: src/totp.ts → src/testing/index.ts',
    ])
      expect(out).toContain(rule)
  })
})

describe('module size rules', () => {
  /**
   * Every file under src/ with its length in lines, and every top-level class. Prettier (checked
   * by npm test) formats a top-level class from its `class` line to the first `}` in column 0.
   */
  function measure(): { files: [string, number][]; classes: [string, number][] } {
    const files: [string, number][] = []
    const classes: [string, number][] = []
    for (const file of readdirSync('src', { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue
      const name = path.join('src', file)
      const lines = readFileSync(name, 'utf8').split('\n')
      files.push([name, lines.length - 1])
      lines.forEach((line, start) => {
        const declared = /^(?:export )?(?:default )?(?:abstract )?class (\w+)/.exec(line)
        if (!declared) return
        const end = lines.findIndex((l, i) => i > start && l === '}')
        classes.push([`${name} ${declared[1]}`, end - start + 1])
      })
    }
    return { files, classes }
  }

  it('no file under src/ over 350 lines, no class over 300', () => {
    const { files, classes } = measure()
    expect(files.length).toBeGreaterThan(50)
    expect(classes.map(([name]) => name)).toContain('src/session/session.ts Session')
    expect(files.filter(([, n]) => n > 350)).toEqual([])
    expect(classes.filter(([, n]) => n > 300)).toEqual([])
  })
})
