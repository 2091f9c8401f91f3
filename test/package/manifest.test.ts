/**
 * package.json declares what src/ imports, as a library ships it: runtime dependencies and peers
 * take caret ranges (exact pins make an app install duplicates; the lockfile pins CI), dev
 * dependencies exact versions; every package src/ imports is a dependency or a peer, and every
 * dependency and peer is imported by src/ (nothing missing, nothing dead); the Node-only
 * packages are optional peers that the tests install as exact dev dependencies.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
  devDependencies: Record<string, string>
}
const { dependencies, peerDependencies, peerDependenciesMeta, devDependencies } = manifest

/** The package each non-relative import of src/ names (code only: TSDoc examples left out). */
function importedBySrc(): Set<string> {
  const names = new Set<string>()
  for (const file of readdirSync('src', { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue
    const code = readFileSync(path.join('src', file), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '')
    // `from '...'` of an import or export statement (not a string such as '--read-from')
    for (const [, spec] of code.matchAll(/(?:^|[\s}])(?:from\s+|import\(\s*)'([^.'][^']*)'/gm)) {
      const parts = spec!.split('/')
      names.add(spec!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!)
    }
  }
  return names
}

const isBuiltin = (name: string) =>
  name.startsWith('node:') || builtinModules.includes(name.replace(/^node:/, ''))

describe('package.json', () => {
  it('runtime dependencies and peers take caret ranges, dev dependencies exact versions', () => {
    const runtime = { ...dependencies, ...peerDependencies }
    expect(Object.entries(runtime).filter(([, range]) => !/^\^\d+\.\d+\.\d+$/.test(range))).toEqual(
      [],
    )
    expect(
      Object.entries(devDependencies).filter(([, version]) => !/^\d+\.\d+\.\d+$/.test(version)),
    ).toEqual([])
  })

  it('every package src/ imports is declared, and every dependency and peer is imported', () => {
    const imported = [...importedBySrc()].filter((name) => !isBuiltin(name)).sort()
    const declared = Object.keys({ ...dependencies, ...peerDependencies }).sort()
    expect(imported).toEqual(declared)
  })

  it('the Node-only packages are optional peers, pinned for the tests within the peer range', () => {
    for (const name of ['ioredis', '@hono/node-server', '@upstash/redis']) {
      expect(dependencies[name], name).toBeUndefined()
      expect(peerDependenciesMeta[name]?.optional, name).toBe(true)
      const floor = peerDependencies[name]!.slice(1).split('.').map(Number)
      const pinned = devDependencies[name]!.split('.').map(Number)
      expect(pinned[0], name).toBe(floor[0])
      expect(pinned[1]! * 1e6 + pinned[2]!, name).toBeGreaterThanOrEqual(
        floor[1]! * 1e6 + floor[2]!,
      )
    }
    expect(peerDependenciesMeta.hono?.optional).toBeUndefined()
  })
})
