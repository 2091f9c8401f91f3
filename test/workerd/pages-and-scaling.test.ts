/**
 * Inside workerd: the Pages Functions entry serves the same app, and a Worker (Upstash store via
 * the gateway) and a Node instance (ioredis store) on one Redis behave as one: a session created
 * on one is read, changed and destroyed on the other, with no sticky routing.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, inject, it } from 'vitest'
import { onRequest } from '../../functions/[[path]].js'
import worker, { type Env } from '../../demo/worker.js'

describe('Pages Functions entry', () => {
  it('serves the demo: healthz and a login', async () => {
    const ctx = createExecutionContext()
    const call = (request: Request) =>
      onRequest({
        request,
        env: {},
        waitUntil: ctx.waitUntil.bind(ctx),
        passThroughOnException: ctx.passThroughOnException.bind(ctx),
        props: {},
      } as never)
    expect(await (await call(new Request('http://localhost/healthz'))).json()).toMatchObject({
      status: 'ok',
    })
    const login = await call(
      new Request('http://localhost/login', {
        method: 'POST',
        redirect: 'manual',
        headers: {
          Origin: 'http://localhost',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: 'username=alice&password=alice-password',
      }),
    )
    expect(login.status).toBe(303)
    await waitOnExecutionContext(ctx)
  })
})

describe('a Worker and a Node instance on one Redis', () => {
  const env: Env = {
    SESSION_KEYS: inject('sessionKeys'),
    UPSTASH_REDIS_REST_URL: inject('gatewayUrl'),
    UPSTASH_REDIS_REST_TOKEN: inject('gatewayToken'),
  }
  const node = inject('nodeDemoUrl')
  let cookie = ''
  const viaWorker = async (method: string, path: string, form?: Record<string, string>) => {
    const ctx = createExecutionContext()
    const res = await worker.fetch(request('http://localhost', method, path, form), env, ctx)
    await waitOnExecutionContext(ctx)
    return take(res)
  }
  const viaNode = async (method: string, path: string, form?: Record<string, string>) =>
    take(await fetch(request(node, method, path, form)))
  const request = (origin: string, method: string, path: string, form?: Record<string, string>) =>
    new Request(`${origin}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        Origin: origin,
        ...(cookie && { Cookie: cookie }),
        ...(form && { 'Content-Type': 'application/x-www-form-urlencoded' }),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    })
  const take = (res: Response) => {
    const line = (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie()[0]
    if (line) cookie = /Max-Age=0/.test(line) ? '' : line.split(';')[0]!
    return res
  }

  it('login on the Worker, read and write on Node, read on the Worker, logout on Node', async () => {
    expect(
      (await viaWorker('POST', '/login', { username: 'admin', password: 'admin-password' })).status,
    ).toBe(303)
    expect(await (await viaNode('GET', '/api/me')).json()).toEqual({
      user: 'admin',
      roles: ['user', 'admin'],
    })
    expect((await viaNode('PUT', '/api/prefs/theme', { value: 'dark' })).status).toBe(200)
    expect(await (await viaWorker('GET', '/api/prefs')).json()).toEqual({ theme: 'dark' })
    expect(await (await viaWorker('POST', '/api/counter')).json()).toEqual({ count: 1 })
    expect(await (await viaNode('POST', '/api/counter')).json()).toEqual({ count: 2 })
    const before = cookie
    expect((await viaNode('POST', '/logout')).status).toBe(303)
    cookie = before // a client replaying the old cookie on the other instance
    expect((await viaWorker('GET', '/api/me')).status).toBe(401)
  })
})
