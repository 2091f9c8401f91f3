/**
 * This project as its users run it: the JavaScript `tsc` builds from src/ (what the package
 * publishes in dist/), not tsx's on-the-fly transform of src/. tsx compiles with esbuild's
 * `keepNames`, which wraps every function the code creates in a `__name(fn, "name")` call (an
 * `Object.defineProperty` per closure, per request): a read measured 0.80-0.83x the floor under
 * tsx and 0.90x built, side by side on one machine (2026-12-07). The other contenders run their
 * packages' published JavaScript too, so the comparison is like for like.
 *
 * `npm run bench:build` (run by `npm run bench`, `bench:profile` and `bench:instructions`) writes
 * the build to .tmp/bench-lib/, beside src/ so that it resolves the same node_modules. Types
 * come from src/, which the build is checked against: a build older than any file of src/ is
 * refused, so the bench never times code other than the checkout's.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))
const built = join(root, '.tmp', 'bench-lib')

/** The newest modification time of the files under `dir`, milliseconds. */
function newest(dir: string): number {
  let at = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    at = Math.max(at, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return at
}

function assertFresh(): void {
  let builtAt: number
  try {
    builtAt = statSync(join(built, 'node.js')).mtimeMs
  } catch {
    throw new Error(`no build of src/ in ${built}: run \`npm run bench:build\` first`)
  }
  if (builtAt < newest(join(root, 'src')))
    throw new Error(`the build in ${built} is older than src/: run \`npm run bench:build\``)
}

assertFresh()
const load = (path: string) => import(new URL(path, `file://${built}/`).href)

export const { session } = (await load('node.js')) as typeof import('../src/node.js')
export const { ioredisStore } = (await load(
  'store/ioredis.js',
)) as typeof import('../src/store/ioredis.js')
export const { memoryStore } = (await load(
  'store/memory.js',
)) as typeof import('../src/store/memory.js')
export const { upstashStore } = (await load(
  'store/upstash.js',
)) as typeof import('../src/store/upstash.js')
