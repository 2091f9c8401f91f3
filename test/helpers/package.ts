/**
 * The package as npm publishes it, in apps of a user's own: `npm pack` of this repository
 * (its `prepack` builds `dist/`), and apps copied from a folder whose package.json depends on
 * `file:../../hono-redis-session.tgz`, installed from the real tarball.
 */
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { cleanEnv, run } from './processes.js'

/** The dependency the examples' package.json files name, rewritten to the packed tarball. */
export const TARBALL_PLACEHOLDER = 'file:../../hono-redis-session.tgz'

/** Runs `npm pack` in this repository into `dest` and returns the tarball's path. */
export async function packPackage(dest: string): Promise<string> {
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', dest], {
    cwd: path.resolve('.'),
    timeout: 120_000,
  })
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`)
  const tarball = readdirSync(dest).find((f) => f.endsWith('.tgz'))
  if (!tarball) throw new Error(`npm pack wrote no tarball:\n${packed.stdout}${packed.stderr}`)
  return path.join(dest, tarball)
}

/**
 * Copies the app in `from` to `to` (without node_modules) with its `hono-redis-session`
 * dependency pointing at `tarball`, and installs it: no lockfile, the npm cache first.
 */
export async function installApp(from: string, to: string, tarball: string): Promise<void> {
  cpSync(from, to, {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('node_modules'),
  })
  const manifest = path.join(to, 'package.json')
  const text = readFileSync(manifest, 'utf8')
  if (!text.includes(`"${TARBALL_PLACEHOLDER}"`)) {
    throw new Error(`${from}/package.json does not depend on ${TARBALL_PLACEHOLDER}`)
  }
  writeFileSync(manifest, text.replace(TARBALL_PLACEHOLDER, `file:${tarball}`))
  const installed = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'],
    { cwd: to, env: cleanEnv({ npm_config_loglevel: 'error' }), timeout: 150_000 },
  )
  if (installed.code !== 0) throw new Error(`npm install in ${to} failed:\n${installed.stderr}`)
}
