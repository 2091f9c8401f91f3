import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, inject, it } from 'vitest'
import worker, { type Env } from '../../demo/worker.js'
import { totp } from '../../src/totp.js'

/**
 * The demo's HTTP contract inside workerd, through the Worker's own fetch handler: with no Redis
 * configured (memory store) and with the Upstash store on the gateway in front of real Redis.
 */
const setups: [string, () => Env][] = [
  ['memory store', () => ({})],
  [
    'upstash store via the gateway',
    () => ({
      UPSTASH_REDIS_REST_URL: inject('gatewayUrl'),
      UPSTASH_REDIS_REST_TOKEN: inject('gatewayToken'),
    }),
  ],
]

describe.each(setups)('demo Worker in workerd: %s', (_name, envFor) => {
  const jar = new Map<string, string>()
  const call = async (method: string, path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = { Origin: 'http://localhost' }
    if (jar.size) headers.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    let body: string | undefined
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(form).toString()
    }
    const ctx = createExecutionContext()
    const request = new Request(`http://localhost${path}`, {
      method,
      headers,
      body,
      redirect: 'manual',
    })
    const res = await worker.fetch(request, envFor(), ctx)
    await waitOnExecutionContext(ctx)
    for (const line of (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie()) {
      const [pair] = line.split(';')
      const [name, value] = [
        pair!.slice(0, pair!.indexOf('=')),
        pair!.slice(pair!.indexOf('=') + 1),
      ]
      if (/Max-Age=0/.test(line)) jar.delete(name)
      else jar.set(name, value)
    }
    return res
  }

  it('healthz', async () => {
    const res = await call('GET', '/healthz')
    expect(await res.json()).toMatchObject({ status: 'ok' })
  })

  it('login, me, counter, sessions, logout-all', async () => {
    expect((await call('POST', '/login', { username: 'alice', password: 'wrong' })).status).toBe(
      401,
    )
    const login = await call('POST', '/login', { username: 'alice', password: 'alice-password' })
    expect(login.status).toBe(303)
    expect(await (await call('GET', '/api/me')).json()).toEqual({ user: 'alice', roles: ['user'] })
    expect(await (await call('POST', '/api/counter')).json()).toEqual({ count: 1 })
    expect(await (await call('POST', '/api/counter')).json()).toEqual({ count: 2 })
    const { sessions } = (await (await call('GET', '/api/sessions')).json()) as {
      sessions: unknown[]
    }
    expect(sessions).toHaveLength(1)
    expect(await (await call('POST', '/api/logout-all')).json()).toEqual({ destroyed: 1 })
    expect((await call('GET', '/api/me')).status).toBe(401)
  })

  it('backup codes: made after enrolment (PBKDF2 in WebCrypto), each steps up once', async () => {
    await call('POST', '/login', { username: 'alice', password: 'alice-password' })
    const enrol = await call('POST', '/api/2fa/enrol', { password: 'alice-password' })
    const { secret } = (await enrol.json()) as { secret: string }
    const code = totp({ issuer: 'workerd' }).generate(secret, Date.now())
    expect((await call('POST', '/api/2fa/confirm', { code })).status).toBe(200)
    const made = await call('POST', '/api/2fa/backup-codes')
    const { codes } = (await made.json()) as { codes: string[] }
    expect(codes).toHaveLength(10)
    const first = await call('POST', '/api/2fa/verify', { code: codes[0]! })
    expect(await first.json()).toEqual({ ok: true, remaining: 9 })
    const again = await call('POST', '/api/2fa/verify', { code: codes[0]! })
    expect(again.status).toBe(401)
    expect(await again.json()).toEqual({ ok: false, reason: 'replayed' })
    expect((await call('POST', '/api/2fa/disable')).status).toBe(200)
  })

  it('logout clears the cookie', async () => {
    await call('POST', '/login', { username: 'admin', password: 'admin-password' })
    expect(jar.size).toBe(1)
    const res = await call('POST', '/logout')
    expect(res.status).toBe(303)
    expect(jar.size).toBe(0)
    expect((await call('GET', '/api/me')).status).toBe(401)
  })
})
