/**
 * The package as an app gets it: the build (`tsc -p tsconfig.build.json`, what `npm pack` runs)
 * and package.json, copied into a temp app's node_modules beside the runtime dependencies
 * (symlinks into this repository's node_modules), and only the optional peers that app
 * installed. Node resolves from the app, so a peer left out really cannot be found (the first
 * test checks it). Each app runs as its own `node` process:
 * - without ioredis (an edge-only install, on Node): the root, ./memory, ./upstash, ./totp and
 *   the README's first example work; ./ioredis, ./gateway and the CLI's Redis commands name the
 *   package to install; `keygen` works;
 * - without @hono/node-server: the gateway answers through `app.fetch`, `listen()` names it;
 * - with both: `createGateway`'s TSDoc example serves a real redis-server.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { transformSync } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, run } from '../helpers/processes.js'
import { freePort, startRedis, stopAll, type RedisServer } from '../helpers/redis.js'

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>
}
const TOKEN = 'built-package-token-0123456789'
const IOREDIS_MISSING =
  "hono-redis-session/ioredis, hono-redis-session/gateway and the CLI's Redis commands need the " +
  'ioredis package, an optional peer dependency: npm install ioredis'
const NODE_SERVER_MISSING =
  "The gateway's listen() (hono-redis-session/gateway) and the CLI's gateway command need the " +
  '@hono/node-server package, an optional peer dependency: npm install @hono/node-server'

let work: string
let redis: RedisServer

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'hrs-built-'))
  await promisify(execFile)(
    path.resolve('node_modules/.bin/tsc'),
    ['-p', 'tsconfig.build.json', '--outDir', path.join(work, 'dist')],
    { timeout: 90_000 },
  )
  redis = await startRedis()
}, 120_000)

afterAll(async () => {
  await stopAll()
  rmSync(work, { recursive: true, force: true })
})

/** A temp app with the built package, its dependencies, `hono` and the given peers. */
function makeApp(name: string, peers: string[]): string {
  const app = path.join(work, name)
  const pkg = path.join(app, 'node_modules', 'hono-redis-session')
  mkdirSync(pkg, { recursive: true })
  cpSync(path.join(work, 'dist'), path.join(pkg, 'dist'), { recursive: true })
  copyFileSync('package.json', path.join(pkg, 'package.json'))
  for (const dep of [...Object.keys(manifest.dependencies), 'hono', ...peers]) {
    const link = path.join(app, 'node_modules', dep)
    mkdirSync(path.dirname(link), { recursive: true })
    symlinkSync(path.resolve('node_modules', dep), link, 'dir')
  }
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, type: 'module' }))
  return app
}

/** Runs `node args` in `app`: exit code and output (never throws). */
function node(app: string, args: string[], extra: Record<string, string> = {}) {
  return run(process.execPath, args, { cwd: app, env: cleanEnv(extra) })
}

/** Writes `code` (TypeScript) as `app/name.mjs` and runs it. */
function script(app: string, name: string, code: string, extra: Record<string, string> = {}) {
  const file = path.join(app, `${name}.mjs`)
  writeFileSync(file, transformSync(code, { loader: 'ts', format: 'esm' }).code)
  return node(app, [file], extra)
}

/** The first ```ts block after `marker` in `text`, with a TSDoc comment's ` * ` taken off. */
function codeAfter(text: string, marker: string): string {
  const from = text.indexOf(marker)
  expect(from).toBeGreaterThanOrEqual(0)
  const block = /```ts\n([\s\S]*?)\n\s*\*?\s*```/.exec(text.slice(from))
  return block![1]!.replace(/^ \* ?/gm, '')
}

describe('an app without ioredis (edge-only, on Node)', () => {
  let app: string
  beforeAll(() => {
    app = makeApp('edge-only', [])
  })

  it('cannot resolve ioredis (the set-up is real)', async () => {
    const { code, stderr } = await node(app, ['--input-type=module', '-e', "import('ioredis')"])
    expect(code).toBe(1)
    expect(stderr).toContain("Cannot find package 'ioredis'")
  })

  it('loads the root, ./memory, ./upstash and ./totp', async () => {
    const { code, stdout, stderr } = await script(
      app,
      'edge',
      `import { session } from 'hono-redis-session'
       import { memoryStore } from 'hono-redis-session/memory'
       import { upstashStore } from 'hono-redis-session/upstash'
       import { totp } from 'hono-redis-session/totp'
       console.log([session, memoryStore, upstashStore, totp].map((f) => typeof f).join(' '))`,
    )
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout.trim()).toBe('function function function function')
  })

  it("runs the README's first example: the cart it answers holds the new item", async () => {
    const example = codeAfter(readFileSync('README.md', 'utf8'), '## Use it in a Hono app')
    writeFileSync(
      path.join(app, 'readme.mjs'),
      transformSync(`${example}\nexport { app }\n`, { loader: 'ts', format: 'esm' }).code,
    )
    const { code, stdout, stderr } = await script(
      app,
      'drive-readme',
      `const { app } = await import('./readme.mjs')
       let cookie = ''
       const post = async (path: string, body = '') => {
         const res = await app.request('https://localhost' + path, {
           method: 'POST', body, headers: cookie ? { cookie } : {},
         })
         const set = res.headers.getSetCookie()[0]
         if (set) cookie = set.split(';')[0]
         return res.status === 200 ? await res.json() : res.status
       }
       console.log(JSON.stringify([
         await post('/cart', 'apple'), await post('/cart', 'pear'),
         await post('/count'), await post('/count'),
       ]))`,
      { SESSION_KEY: randomBytes(32).toString('base64url') },
    )
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual([
      { cart: ['apple'] },
      { cart: ['apple', 'pear'] },
      { count: 1 },
      { count: 2 },
    ])
  })

  it('./ioredis and ./gateway name the package to install', async () => {
    for (const entry of ['ioredis', 'gateway']) {
      const { code, stderr } = await script(
        app,
        `import-${entry}`,
        `import * as entry from 'hono-redis-session/${entry}'\nconsole.log(Object.keys(entry))`,
      )
      expect(code).toBe(1)
      expect(stderr).toContain(`MissingPeerError: ${IOREDIS_MISSING}`)
    }
  })

  it('the CLI: keygen works; a Redis command and the gateway name ioredis (exit 1)', async () => {
    const cli = path.join(app, 'node_modules/hono-redis-session/dist/ops/main.js')
    const keygen = await node(app, [cli, 'keygen'])
    expect(keygen.stderr).toBe('')
    expect(keygen.stdout).toMatch(/^k\d{8}:[A-Za-z0-9_-]{43}\n$/)
    for (const args of [['stats', '--redis-url', redis.url], ['gateway']]) {
      const { code, stdout, stderr } = await node(app, [cli, ...args], {
        GATEWAY_TOKENS: TOKEN,
      })
      expect(stdout).toBe('')
      expect(stderr).toBe(`error: ${IOREDIS_MISSING}\n`)
      expect(code).toBe(1)
    }
  })
})

describe('an app with ioredis, without @hono/node-server', () => {
  it('the gateway answers through app.fetch; listen() names the package', async () => {
    const app = makeApp('no-node-server', ['ioredis'])
    const { code, stdout, stderr } = await script(
      app,
      'gateway',
      `import { createGateway, listen } from 'hono-redis-session/gateway'
       import { connectRedis } from 'hono-redis-session/ioredis'
       const redis = connectRedis({ url: '${redis.url}', stringNumbers: true })
       const gateway = createGateway({ redis, tokens: ['${TOKEN}'] })
       const res = await gateway.app.fetch(new Request('http://gateway/', {
         method: 'POST', body: '["PING"]', headers: { authorization: 'Bearer ${TOKEN}' },
       }))
       console.log(res.status, await res.text())
       await listen(gateway, { port: 0 }).catch((e) => console.log(e.name, e.code, e.message))
       await redis.quit()`,
    )
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toBe(
      `200 {"result":"PONG"}\nMissingPeerError ERR_MISSING_PEER ${NODE_SERVER_MISSING}\n`,
    )
  })
})

describe('an app with ioredis and @hono/node-server (Node + Redis)', () => {
  it("createGateway's TSDoc example serves a real redis-server", { timeout: 30_000 }, async () => {
    const app = makeApp('node-redis', ['ioredis', '@hono/node-server'])
    const port = await freePort()
    const example = codeAfter(readFileSync('src/gateway/app.ts', 'utf8'), '@example')
      .replace("'redis://127.0.0.1:6379'", `'${redis.url}'`)
      .replace('port: 8079', `port: ${port}`)
    expect(example).toContain(redis.url)
    expect(example).toContain(`port: ${port}`)
    const file = path.join(app, 'gateway-example.mjs')
    writeFileSync(file, transformSync(example, { loader: 'ts', format: 'esm' }).code)
    const child = spawn(process.execPath, [file], {
      cwd: app,
      env: cleanEnv({ GATEWAY_TOKEN: TOKEN }),
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise((resolve) => child.once('exit', resolve))
    try {
      let answer = ''
      for (const until = Date.now() + 15_000; !answer && Date.now() < until;) {
        const res = await fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          body: '["PING"]',
          headers: { authorization: `Bearer ${TOKEN}` },
        }).catch(() => undefined)
        if (res) answer = await res.text()
        else await new Promise((r) => setTimeout(r, 100))
      }
      expect(stderr).toBe('')
      expect(answer).toBe('{"result":"PONG"}')
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })
})
