/**
 * Attack: make a shared cache keep a page that shows someone's session (C3). The app, or a
 * middleware beside the session, asks for a cacheable response; whatever the response is built
 * with, a response that read the session must reach the client with `Cache-Control: no-store`.
 * Served over real HTTP by @hono/node-server, where the session marks the Node response itself
 * (the `node` entry's `node-response.ts`), through the same server without its Node bindings, and through
 * `app.request` (the path Workers take).
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { setCookie } from 'hono/cookie'
import { serve } from '@hono/node-server'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// the package root as Node resolves it (the `node` condition), as an app on Node imports it
import { session, type SessionEnv } from '../../../src/node.js'
import { memoryStore } from '../../../src/store/memory.js'
import { serveHttp, type Served } from '../../helpers/load.js'
import { KEY_A } from '../../helpers/session-app.js'

const PUBLIC = 'public, max-age=600'

type Env = SessionEnv<Record<string, unknown>> & {
  Bindings: { outgoing?: { setHeader(name: string, value: string): void } }
}

/** Asks for a cacheable response after the handler, as a caching middleware would. */
const cacheable: MiddlewareHandler = async (c, next) => {
  await next()
  c.res.headers.set('Cache-Control', PUBLIC)
}

function app() {
  const a = new Hono<Env>()
  // registered before the session: its after-handler part runs after the session's
  a.use('/late/*', cacheable)
  a.use(session({ keys: [KEY_A], store: memoryStore(), insecureLocalhost: true }))
  a.use('/early/*', cacheable)
  a.post('/login', (c) => {
    c.get('session').authenticate('alice', { roles: ['user'] })
    return c.json({ ok: true })
  })
  const me = async (c: { get(k: 'session'): Env['Variables']['session'] }) =>
    JSON.stringify({ user: (await c.get('session').info())?.userId ?? null })
  a.get('/header', async (c) => {
    const body = await me(c)
    c.header('Cache-Control', PUBLIC)
    return c.body(body, 200, { 'Content-Type': 'application/json' })
  })
  a.get('/body', async (c) => c.body(await me(c), 200, { 'Cache-Control': PUBLIC }))
  a.get('/raw', async (c) => new Response(await me(c), { headers: { 'cache-control': PUBLIC } }))
  a.get('/raw-headers', async (c) => {
    const headers = new Headers([['Cache-Control', PUBLIC]])
    return new Response(await me(c), { headers })
  })
  a.get('/node', async (c) => {
    const body = await me(c)
    // undefined through app.request
    ;(c.env as Env['Bindings'] | undefined)?.outgoing?.setHeader('Cache-Control', PUBLIC)
    return c.body(body)
  })
  a.get('/early/me', async (c) => c.body(await me(c)))
  a.get('/late/me', async (c) => c.body(await me(c)))
  a.get('/plain', (c) => c.text('no session here'))
  // a sign-in whose response carries cookies of the app's own beside the session's
  a.post('/login/set-cookie', (c) => {
    c.get('session').authenticate('alice', { roles: ['user'] })
    setCookie(c, 'csrf', 'c1', { path: '/' })
    return c.json({ ok: true })
  })
  a.post('/login/raw', (c) => {
    c.get('session').authenticate('alice', { roles: ['user'] })
    return new Response('ok', { headers: { 'set-cookie': 'theme=dark; Path=/' } })
  })
  a.post('/login/raw-two', (c) => {
    c.get('session').authenticate('alice', { roles: ['user'] })
    const headers = new Headers()
    headers.append('Set-Cookie', 'a=1; Path=/')
    headers.append('Set-Cookie', 'b=2; Path=/')
    return new Response('ok', { headers })
  })
  return a
}

const PATHS = ['/header', '/body', '/raw', '/raw-headers', '/node', '/early/me'] as const

/** Signs in over `send`, then reads every path with the cookie. */
async function attack(send: (path: string, init?: RequestInit) => Promise<Response>) {
  const login = await send('/login', { method: 'POST' })
  expect(login.status).toBe(200)
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!
  const seen: Record<string, [number, string | null, string]> = {}
  for (const path of [...PATHS, '/late/me']) {
    const res = await send(path, { headers: { Cookie: cookie } })
    seen[path] = [res.status, res.headers.get('cache-control'), await res.text()]
  }
  const plain = await send('/plain', { headers: { Cookie: cookie } })
  return { seen, plain: plain.headers.get('cache-control') }
}

const signedIn = JSON.stringify({ user: 'alice' })

describe('attack: a cacheable response that shows a session', () => {
  let node: Served
  let unbound: Served
  beforeAll(async () => {
    const a = app()
    node = await serveHttp(a.fetch)
    // the same app without @hono/node-server's bindings in c.env: the Hono path over HTTP
    const b = app()
    unbound = await serveHttp((req) => b.fetch(req))
  })
  afterAll(async () => {
    await node.close()
    await unbound.close()
  })

  it('over HTTP on @hono/node-server: every session response is no-store, even after a later middleware', async () => {
    const { seen, plain } = await attack((p, init) => fetch(node.url + p, init))
    // each path on its own line of the diff when one fails
    expect(seen).toEqual(
      Object.fromEntries([...PATHS, '/late/me'].map((p) => [p, [200, 'no-store', signedIn]])),
    )
    expect(plain).toBeNull()
  })

  it('over HTTP without the Node bindings, and through app.request: the same', async () => {
    const a = app()
    for (const send of [
      (p: string, init?: RequestInit) => fetch(unbound.url + p, init),
      async (p: string, init?: RequestInit) => a.request(`http://localhost${p}`, init),
    ]) {
      const { seen, plain } = await attack(send)
      const { '/late/me': late, ...rest } = seen
      expect(rest).toEqual(Object.fromEntries(PATHS.map((p) => [p, [200, 'no-store', signedIn]])))
      // a middleware whose after-handler part runs after the session's has the last word on a
      // Response object: only the Node path can hold no-store against it (README)
      expect(late).toEqual([200, PUBLIC, signedIn])
      expect(plain).toBeNull()
    }
  })
})

describe("attack: the session's cookie lost beside the app's own", () => {
  let node: Served
  beforeAll(async () => {
    node = await serveHttp(app().fetch)
  })
  afterAll(() => node.close())

  const LOGINS: Record<string, string[]> = {
    '/login/set-cookie': ['csrf=c1'],
    '/login/raw': ['theme=dark'],
    '/login/raw-two': ['a=1', 'b=2'],
  }
  for (const [path, own] of Object.entries(LOGINS)) {
    it(`${path}: every cookie arrives, the session's signs in, the response is no-store`, async () => {
      const a = app()
      for (const send of [
        (p: string, init?: RequestInit) => fetch(node.url + p, init),
        async (p: string, init?: RequestInit) => a.request(`http://localhost${p}`, init),
      ]) {
        const res = await send(path, { method: 'POST' })
        expect(res.status).toBe(200)
        expect(res.headers.get('cache-control')).toBe('no-store')
        const pairs = res.headers.getSetCookie().map((line) => line.split(';')[0]!)
        const sessionCookie = pairs.find((p) => p.startsWith('session='))
        expect(pairs.filter((p) => p !== sessionCookie)).toEqual(own)
        const me = await send('/body', { headers: { Cookie: sessionCookie! } })
        expect(await me.text()).toBe(signedIn)
      }
    })
  }
})

describe('the same over HTTP/2 (h2c) on @hono/node-server', () => {
  /** One HTTP/2 request: status, cache-control and set-cookie pairs. */
  function h2(port: number, path: string, cookie?: string) {
    return new Promise<[unknown, unknown, string[]]>((resolve, reject) => {
      const client = http2.connect(`http://127.0.0.1:${port}`)
      client.on('error', reject)
      const req = client.request({
        ':method': path.startsWith('/login') ? 'POST' : 'GET',
        ':path': path,
        ...(cookie && { cookie }),
      })
      let head: [unknown, unknown, string[]] = [0, undefined, []]
      req.on('response', (h) => {
        const lines = (h['set-cookie'] ?? []) as string[]
        head = [h[':status'], h['cache-control'], lines.map((l) => l.split(';')[0]!)]
      })
      req.resume()
      req.on('end', () => {
        client.close()
        resolve(head)
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('a cacheable sign-in with cookies of its own: no-store, every cookie, the session signs in', async () => {
    const server = serve({
      fetch: app().fetch,
      port: 0,
      hostname: '127.0.0.1',
      createServer: http2.createServer,
    } as Parameters<typeof serve>[0])
    await new Promise((r) => server.once('listening', r))
    const { port } = server.address() as AddressInfo
    try {
      const [status, cacheControl, pairs] = await h2(port, '/login/set-cookie')
      expect([status, cacheControl]).toEqual([200, 'no-store'])
      const sessionCookie = pairs.find((p) => p.startsWith('session='))!
      expect(pairs.filter((p) => p !== sessionCookie)).toEqual(['csrf=c1'])
      expect(await h2(port, '/header', sessionCookie)).toEqual([200, 'no-store', []])
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})
