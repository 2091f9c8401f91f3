/**
 * Request bodies against the demo over real HTTP (security issue, finding 4; SECURITY.md attack
 * 14): a body of any size used to be parsed whole (300 MB took the process from 109 MB to
 * 1.5 GB), and a malformed multipart body was a 500.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../../../demo/app.js'
import { memoryStore } from '../../../src/store/memory.js'
import { HttpClient, figures, serveHttp, type Served } from '../../helpers/load.js'
import { KEY_A } from '../../helpers/session-app.js'

let served: Served
beforeAll(async () => {
  const app = createDemoApp({ store: memoryStore(), keys: [KEY_A], insecureLocalhost: true })
  served = await serveHttp(app.fetch)
})
afterAll(() => served.close())

/** Streams up to `total` bytes (chunked, no Content-Length) until the server answers. */
function stream(
  path: string,
  total: number,
  cookie = '',
): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0
    let answered = false
    const req = request(`${served.url}${path}`, {
      method: path.startsWith('/api/prefs') ? 'PUT' : 'POST',
      headers: {
        Origin: served.origin,
        Cookie: cookie,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
    })
    req.on('response', (res) => {
      answered = true
      res.resume()
      resolve({ status: res.statusCode!, sent })
      req.destroy()
    })
    req.on('error', (err) => (answered ? undefined : reject(err)))
    const chunk = Buffer.alloc(64 * 1024, 'a')
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', pump)
      }
      if (!answered) req.end()
    }
    pump()
  })
}

describe('attack: unbounded request bodies', () => {
  it('a 64 MB streamed POST /login is refused with 413 after a few KiB; memory stays flat', async () => {
    global.gc?.()
    const before = process.memoryUsage().rss
    const res = await stream('/login', 64 * 1024 * 1024)
    const grownMb = (process.memoryUsage().rss - before) / 1024 / 1024
    figures('demo-bodies', {
      status: res.status,
      sentKiB: res.sent / 1024,
      rssGrowthMb: grownMb.toFixed(1),
    })
    expect(res.status).toBe(413)
    expect(res.sent).toBeLessThan(64 * 1024 * 1024)
    expect(grownMb).toBeLessThan(32)
  })

  it('a declared Content-Length of 300 MB is refused before the body is read', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = request(`${served.url}/login`, {
        method: 'POST',
        headers: {
          Origin: served.origin,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': String(300 * 1024 * 1024),
        },
      })
      req.on('response', (r) => {
        r.resume()
        resolve(r.statusCode!)
        req.destroy()
      })
      req.on('error', reject)
      req.write('username=alice&') // and nothing more
    })
    expect(res).toBe(413)
  })

  it('every route that reads a body answers 413 over the limit, nothing parsed', async () => {
    const c = new HttpClient(served)
    await c.login()
    const cookie = c.jar.header()
    for (const path of [
      '/login',
      '/api/prefs/theme',
      '/api/2fa/enrol',
      '/api/2fa/confirm',
      '/api/2fa/verify',
      '/api/password',
      '/settings/password',
      '/settings/2fa/verify',
    ]) {
      expect([path, (await stream(path, 16 * 1024, cookie)).status]).toEqual([path, 413])
    }
    // the largest legal input still goes through
    const pref = await c.request('PUT', '/api/prefs/theme', { value: 'é'.repeat(1024) })
    expect(pref.status).toBe(200)
  })
})

describe('attack: malformed multipart gives a 500', () => {
  it('a broken multipart body is a 400 with a JSON error', async () => {
    for (const body of [
      'garbage',
      '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice',
    ]) {
      const res = await fetch(`${served.url}/login`, {
        method: 'POST',
        headers: { Origin: served.origin, 'Content-Type': 'multipart/form-data; boundary=x' },
        body,
      })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'ERR_SESSION_INPUT' })
    }
    const noBoundary = await fetch(`${served.url}/login`, {
      method: 'POST',
      headers: { Origin: served.origin, 'Content-Type': 'multipart/form-data' },
      body: 'x',
    })
    expect(noBoundary.status).toBe(400)
  })
})
