import { build, type Metafile } from 'esbuild'
import { gzipSync } from 'node:zlib'

/**
 * Bundles an entry the way a Worker build would (ESM, browser platform, minified, tree-shaken)
 * and reports what went in: used by `npm run size` and by the bundle tests.
 */
export interface BundleReport {
  bytes: number
  gzipBytes: number
  /** Every input module path in the bundle. */
  inputs: string[]
  /** Imports that were left external because they are Node built-ins (should be empty). */
  nodeBuiltins: string[]
}

export async function bundle(entry: string): Promise<BundleReport> {
  const nodeBuiltins = new Set<string>()
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    minify: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'flag-node-builtins',
        setup(b) {
          b.onResolve(
            {
              filter:
                /^(node:|(fs|net|tls|crypto|stream|buffer|events|os|path|dns|child_process|http|https|zlib|util)$)/,
            },
            (args) => {
              nodeBuiltins.add(args.path)
              return { path: args.path, external: true }
            },
          )
        },
      },
    ],
  })
  const code = result.outputFiles[0]!.contents
  return {
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
    inputs: Object.keys((result.metafile as Metafile).inputs),
    nodeBuiltins: [...nodeBuiltins],
  }
}
