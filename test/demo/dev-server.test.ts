/**
 * `npm run dev` (wrangler dev: miniflare/workerd, no account, no network): starts, serves
 * /healthz, and a login round trip works over real HTTP. The server is started in its own
 * process group and stopped by that group's id, so the workerd child never keeps the port.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/redis.js'

let child: ChildProcess | undefined

afterAll(() => stop())

function stop(): Promise<void> {
  const proc = child
  child = undefined
  if (!proc || proc.exitCode !== null || proc.pid === undefined) return Promise.resolve()
  return new Promise((resolve) => {
    proc.once('exit', () => resolve())
    process.kill(-proc.pid!, 'SIGTERM')
    setTimeout(() => {
      try {
        process.kill(-proc.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, 5000).unref()
  })
}

async function waitFor(url: string, ms: number): Promise<Response> {
  const until = Date.now() + ms
  let last: unknown
  while (Date.now() < until) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2000) })
    } catch (err) {
      last = err
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  throw new Error(`${url} did not answer within ${ms} ms: ${String(last)}`)
}

describe('npm run dev', () => {
  it('serves the demo locally: healthz and a login round trip', { timeout: 90_000 }, async () => {
    const port = await freePort()
    let output = ''
    child = spawn('npm', ['run', 'dev', '--', '--port', String(port), '--ip', '127.0.0.1'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    })
    child.stdout!.on('data', (d) => (output += d))
    child.stderr!.on('data', (d) => (output += d))
    const base = `http://127.0.0.1:${port}`
    const health = await waitFor(`${base}/healthz`, 60_000).catch((err) => {
      throw new Error(`${err}\n--- wrangler output ---\n${output}`)
    })
    expect(await health.json()).toMatchObject({ status: 'ok' })

    // a login round trip over HTTP with the demo's own form and cookies
    const origin = { Origin: `http://localhost:${port}` }
    const login = await fetch(`http://localhost:${port}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...origin, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=alice-password',
    })
    expect(login.status).toBe(303)
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!
    expect(cookie).toMatch(/^session=/)
    const me = await fetch(`http://localhost:${port}/api/me`, { headers: { Cookie: cookie } })
    expect(await me.json()).toEqual({ user: 'alice', roles: ['user'] })
    const counter = await fetch(`http://localhost:${port}/api/counter`, {
      method: 'POST',
      headers: { ...origin, Cookie: cookie },
    })
    expect(await counter.json()).toEqual({ count: 1 })

    await stop()
    await expect(fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow()
  })
})
