/**
 * `hono-redis-session gateway --read-from replicas` on a Sentinel group (1 primary + 2
 * replicas): one connection per replica, reads answered with the sync token, and a clear
 * error (exit 1) for a target that lists no replicas.
 */
import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, startSentinelGroup, stopAll } from '../helpers/redis.js'

afterAll(stopAll)

const TOKEN = 'cli-read-from-token-0123456789'

function gateway(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/ops/main.ts', 'gateway', ...args],
    {
      env: { ...process.env, REDIS_URL: '', GATEWAY_TOKENS: TOKEN, ...env },
      stdio: 'pipe',
    },
  )
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (out += d))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, exited, out: () => out }
}

describe('CLI: gateway --read-from', () => {
  it('reads from every replica the sentinels list', { timeout: 60_000 }, async () => {
    const group = await startSentinelGroup({ replicas: 2 })
    const port = await freePort()
    const run = gateway(['--port', String(port), '--read-from', 'replicas'], {
      REDIS_SENTINELS: group.sentinelAddrs.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: group.name,
    })
    const deadline = Date.now() + 20_000
    while (!run.out().includes('listening') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    expect(run.out()).toContain('reads on 2 replica(s)')
    const post = (command: unknown[], token?: string) =>
      fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(token ? { 'upstash-sync-token': token } : {}),
        },
        body: JSON.stringify(command),
      })
    const wrote = await post(['SET', 'cli:k', 'v'])
    const token = wrote.headers.get('upstash-sync-token')
    expect(token).toMatch(/^\d+$/)
    const read = await post(['GET', 'cli:k'], token!)
    expect(await read.json()).toEqual({ result: 'v' })
    expect(Number(read.headers.get('upstash-sync-token'))).toBeGreaterThanOrEqual(Number(token))
    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
  })

  it('refuses replicas for a single server, naming the flag', async () => {
    const run = gateway(['--redis-url', 'redis://127.0.0.1:1', '--read-from', 'replicas'], {})
    expect(await run.exited).toBe(1)
    expect(run.out()).toContain('[gateway] --read-from=replicas needs a Sentinel deployment')
  })
})
