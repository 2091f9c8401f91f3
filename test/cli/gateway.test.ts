/**
 * `hono-redis-session gateway` runs the gateway from the package's bin, flags over variables,
 * and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, startRedis, stopAll } from '../helpers/redis.js'

afterAll(stopAll)

describe('CLI: gateway', () => {
  it(
    'serves with flags over the environment, answers, and exits 0 on SIGTERM',
    { timeout: 60_000 },
    async () => {
      const server = await startRedis()
      const port = await freePort()
      const token = 'cli-gateway-token-0123456789'
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/ops/main.ts',
          'gateway',
          '--port',
          String(port),
          '--redis-url',
          server.url,
          '--max-subscribers',
          '1',
          '--allow-commands',
          'FLUSHDB',
        ],
        // the variable says another port: the flag wins
        {
          env: { ...process.env, GATEWAY_TOKENS: token, GATEWAY_PORT: '1', REDIS_URL: '' },
          stdio: 'pipe',
        },
      )
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d))
      child.stderr.on('data', (d: Buffer) => (out += d))
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
      const deadline = Date.now() + 20_000
      while (!out.includes('listening') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50))
      expect(out).toContain(`listening on http://127.0.0.1:${port}`)
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: '["PING"]',
      })
      expect(await res.json()).toEqual({ result: 'PONG' })
      // a subscription stream open at SIGTERM is ended (not waited for); --max-subscribers applies
      const subscribe = () =>
        fetch(`http://127.0.0.1:${port}/subscribe/news`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
      const stream = await subscribe()
      const reader = stream.body!.getReader()
      const decoder = new TextDecoder()
      let events = ''
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        events += decoder.decode(chunk.value)
        if (events.endsWith('\n\n')) break
      }
      expect(events).toBe('data: subscribe,news,1\n\n')
      expect((await subscribe()).status).toBe(503)
      const flush = await fetch(`http://127.0.0.1:${port}/flushdb`, {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(await flush.json()).toEqual({ result: 'OK' })
      child.kill('SIGTERM')
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        events += decoder.decode(chunk.value)
      expect(events).toBe('data: subscribe,news,1\n\ndata: unsubscribe,news,0\n\n')
      expect(await exited).toBe(0)
      expect(out).toContain('[gateway] stopped')
    },
  )

  it('--help lists the variables; a bad setting is a clear error', async () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/ops/main.ts', ...args], {
          env: { ...process.env, REDIS_URL: '', GATEWAY_TOKENS: '', ...env },
        })
        let out = ''
        child.stdout.on('data', (d: Buffer) => (out += d))
        child.stderr.on('data', (d: Buffer) => (out += d))
        child.once('exit', (code) => resolve({ code, out }))
      })
    const help = await run(['gateway', '--help'])
    expect(help.code).toBe(0)
    for (const v of [
      'GATEWAY_TOKENS',
      'GATEWAY_SCRIPTS',
      'GATEWAY_MAX_COUNT',
      'GATEWAY_MAX_SUBSCRIBERS',
      '--max-subscribers',
      'GATEWAY_ALLOW_COMMANDS',
      '--allow-commands',
      'REDIS_URL',
    ])
      expect(help.out).toContain(v)
    const bad = await run(['gateway', '--redis-url', 'redis://127.0.0.1:1', '--scripts', 'some'], {
      GATEWAY_TOKENS: 'cli-gateway-token-0123456789',
    })
    expect(bad.code).toBe(1)
    // the error names what the user typed: the flag, or the variable
    expect(bad.out).toContain('[gateway] --scripts must be "registered" or "any", got "some"')
    const badEnv = await run(['gateway', '--redis-url', 'redis://127.0.0.1:1'], {
      GATEWAY_TOKENS: 'cli-gateway-token-0123456789',
      GATEWAY_SCRIPTS: 'some',
    })
    expect(badEnv.code).toBe(1)
    expect(badEnv.out).toContain('[gateway] GATEWAY_SCRIPTS must be "registered" or "any"')
    // a command unsafe by nature stops the start, naming the flag or the variable
    const unsafe = await run(
      ['gateway', '--redis-url', 'redis://127.0.0.1:1', '--allow-commands', 'FLUSHDB,CONFIG'],
      { GATEWAY_TOKENS: 'cli-gateway-token-0123456789' },
    )
    expect(unsafe.code).toBe(1)
    expect(unsafe.out).toContain('[gateway] --allow-commands cannot enable CONFIG: it administers')
    const unsafeEnv = await run(['gateway', '--redis-url', 'redis://127.0.0.1:1'], {
      GATEWAY_TOKENS: 'cli-gateway-token-0123456789',
      GATEWAY_ALLOW_COMMANDS: 'MIGRATE',
    })
    expect(unsafeEnv.code).toBe(1)
    expect(unsafeEnv.out).toContain('[gateway] GATEWAY_ALLOW_COMMANDS cannot enable MIGRATE')
  })
})
