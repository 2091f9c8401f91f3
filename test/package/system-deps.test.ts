/**
 * scripts/system-deps.sh, which .ci/run and `npm test` (pretest) run first, on a machine that
 * lacks the binaries: PATH and CHROMIUM point at a folder that holds none of them, only an
 * `apt-get` that records how it was called (and installs nothing).
 * - Not root (a real one: `setpriv` to nobody when the tests run as root): the script fails
 *   at once with the one install command and never calls apt-get.
 * - Root (the tests' own user, else `unshare --map-root-user`): it runs `apt-get update`, then
 *   installs exactly what is missing, checks again and fails naming what is still missing.
 */
import { execFile } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

let dir: string
let script: string
const calls = () =>
  existsSync(path.join(dir, 'apt-calls')) ? readFileSync(path.join(dir, 'apt-calls'), 'utf8') : ''

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hrs-system-deps-'))
  chmodSync(dir, 0o777) // nobody must be able to leave a trace, were it to call apt-get
  script = path.join(dir, 'system-deps.sh')
  copyFileSync('scripts/system-deps.sh', script) // the clone may sit where nobody cannot read
  chmodSync(script, 0o755)
  const apt = path.join(dir, 'apt-get')
  writeFileSync(apt, `#!/bin/sh\necho "$*" >> ${path.join(dir, 'apt-calls')}\n`)
  chmodSync(apt, 0o755)
})

afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the script with only `dir` on PATH; `as` picks the user. Exit code and output. */
function run(as: 'non-root' | 'root'): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = process.getuid?.() === 0
  const bash = ['/bin/bash', script]
  const argv =
    as === 'non-root'
      ? root
        ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...bash]
        : bash
      : root
        ? bash
        : ['/usr/bin/unshare', '--user', '--map-root-user', ...bash]
  const env = { PATH: dir, CHROMIUM: path.join(dir, 'chromium'), HOME: dir }
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env, timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr })
    })
  })
}

describe('scripts/system-deps.sh on a machine without the binaries', () => {
  it('not root: prints the one install command and fails without calling apt-get', async () => {
    const { code, stdout, stderr } = await run('non-root')
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain(
      '\n  sudo apt-get update && sudo apt-get install -y redis-server redis-tools chromium openssl\n',
    )
    expect(calls()).toBe('')
  })

  it('root: apt-get update, then installs what is missing; fails when still missing', async () => {
    const { code, stdout, stderr } = await run('root')
    expect(stdout).toBe('system-deps: installing redis-server redis-tools chromium openssl\n')
    expect(calls()).toBe('update -qq\ninstall -y -qq redis-server redis-tools chromium openssl\n')
    expect(stderr).toContain(
      'system-deps: still missing after apt-get install: redis-server redis-tools chromium openssl',
    )
    expect(code).toBe(1)
  })

  it('passes at once when everything is there (this machine)', async () => {
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>(
      (resolve, reject) =>
        execFile('/bin/bash', ['scripts/system-deps.sh'], { timeout: 10_000 }, (err, o, e) =>
          err ? reject(new Error(`${err.message}\n${e}`)) : resolve({ stdout: o, stderr: e }),
        ),
    )
    expect(stdout + stderr).toBe('')
  })
})
