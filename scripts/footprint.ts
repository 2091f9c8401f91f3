import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * `npm run footprint`: what an install of the package brings, measured as a user installs it.
 * Packs the package, installs the tarball into fresh projects (edge-only: with `hono`; Node +
 * Redis: with `ioredis` and `@hono/node-server` too), then counts the packages of
 * `npm ls --omit=dev --all` and the size of `node_modules` (`du -sh`). Fails when the edge-only
 * tree holds a Node-only package. `--keep` leaves the projects in place to look at.
 */
const INSTALLS: Record<string, string[]> = {
  'edge-only': ['hono'],
  'node-redis': ['hono', 'ioredis', '@hono/node-server'],
}
/**
 * Packages an edge-only app never uses: none may reach its tree. (`commander` does: the package's
 * bin needs it, see the README's "What an install brings".)
 */
const NOT_ON_THE_EDGE = ['ioredis', 'prom-client', '@hono/node-server']

interface LsNode {
  version?: string
  dependencies?: Record<string, LsNode>
}

/**
 * Every installed `name@version` of an `npm ls --json` tree, the project itself left out (an
 * optional peer not installed is listed without a version).
 */
function packagesOf(tree: LsNode, into = new Set<string>()): Set<string> {
  for (const [name, node] of Object.entries(tree.dependencies ?? {})) {
    if (node.version === undefined) continue
    into.add(`${name}@${node.version}`)
    packagesOf(node, into)
  }
  return into
}

const run = (cwd: string, cmd: string, args: string[]) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })

const work = mkdtempSync(join(tmpdir(), 'hrs-footprint-'))
let failed = false
try {
  run(process.cwd(), 'npm', ['pack', '--silent', '--pack-destination', work])
  const tarball = join(
    work,
    readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  )
  for (const [name, extra] of Object.entries(INSTALLS)) {
    const dir = join(work, name)
    mkdirSync(dir)
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name, private: true, type: 'module' }),
    )
    run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--silent', tarball, ...extra])
    const tree = JSON.parse(run(dir, 'npm', ['ls', '--omit=dev', '--all', '--json'])) as LsNode
    const packages = [...packagesOf(tree)].sort()
    const size = run(dir, 'du', ['-sh', 'node_modules']).split('\t')[0]
    console.log(`${name}: ${packages.length} packages, node_modules ${size} (du -sh)`)
    console.log(`  ${packages.join(' ')}`)
    const names = packages.map((p) => p.slice(0, p.lastIndexOf('@')))
    const stray = NOT_ON_THE_EDGE.filter((p) => names.includes(p))
    if (name === 'edge-only' && stray.length) {
      console.error(`footprint: the edge-only install holds ${stray.join(', ')}`)
      failed = true
    }
  }
} finally {
  if (process.argv.includes('--keep')) console.log(`projects kept in ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
