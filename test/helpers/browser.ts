/**
 * Browser tests: Debian's Chromium driven by playwright-core, and the Node demo (`demo/node.ts`)
 * as a child process. Nothing is skipped silently: a missing Chromium fails with the install line.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Browser, Page } from 'playwright-core'
import { onTestFinished } from 'vitest'
import { freePort } from './redis.js'

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
export const SCREENSHOTS = path.resolve('test-artifacts/screenshots')

/** Launch arguments from TOOLCHAIN.md (playwright adds `--headless` and a fresh `--user-data-dir`). */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Launches headless Chromium with a fresh profile; fails clearly when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (CI: .ci/run does), or set CHROMIUM.',
    )
  }
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
}

/** Saves a full-page screenshot as `test-artifacts/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true })
  const file = path.join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}

/**
 * A self-signed certificate for localhost and 127.0.0.1 (openssl), valid one day; call it
 * inside a test: its files are removed when the test ends.
 */
export async function selfSignedCert(): Promise<{ cert: string; key: string; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hrs-tls-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  const cert = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ])
  return { cert, key, dir }
}

/** The Node demo started as a child process (`node --import tsx demo/node.ts`). */
export interface DemoServer {
  port: number
  /** `http://localhost:PORT` or `https://localhost:PORT`. */
  origin: string
  /** Everything the process printed. */
  output(): string
  /** SIGTERM to its process group, SIGKILL after 5 s; resolves when it exited. */
  stop(): Promise<void>
}

/** GET over HTTP(S) accepting a self-signed certificate: status and body. */
export function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = (u.protocol === 'https:' ? https : http).request(
      u,
      { method: 'GET', headers, rejectUnauthorized: false, timeout: 3000 },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

/** Starts the demo with `env` added to this process's environment; waits for /healthz. */
export async function startNodeDemo(env: Record<string, string> = {}): Promise<DemoServer> {
  const port = await freePort()
  const secure = Boolean(env.TLS_CERT)
  const origin = `${secure ? 'https' : 'http'}://localhost:${port}`
  let output = ''
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'demo/node.ts'], {
    cwd: path.resolve('.'),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
  })
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {
          // already gone
        }
      }, 5000)
      await exited
      clearTimeout(timer)
    }
  }
  const until = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the demo exited early:\n${output}`)
    try {
      if ((await get(`${origin}/healthz`)).status === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      await stop()
      throw new Error(`the demo did not answer /healthz within 20 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 150))
  }
  return { port, origin, output: () => output, stop }
}
