/**
 * `npm run dev` (wrangler dev: miniflare/workerd, no account, no network): starts, serves
 * /healthz, and a login round trip works over real HTTP. The server is started in its own
 * process group and stopped by that group's id, so the workerd child never keeps the port.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { startServer, stopServers, waitForHttp } from '../helpers/processes.js'
import { freePort } from '../helpers/redis.js'

afterAll(() => stopServers())

describe('npm run dev', () => {
  it('serves the demo locally: healthz and a login round trip', { timeout: 90_000 }, async () => {
    const port = await freePort()
    const server = startServer(
      'npm',
      ['run', 'dev', '--', '--port', String(port), '--ip', '127.0.0.1'],
      { cwd: process.cwd(), env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' } },
    )
    const base = `http://127.0.0.1:${port}`
    const health = await waitForHttp(`${base}/healthz`, 60_000, server)
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

    await server.stop()
    await expect(fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow()
  })
})
