/**
 * `nodeResponseHeaders` (the `node` entry's) on a real Node server response: with `noStore`,
 * every form `writeHead` takes its headers in (object, flat list, with or without a status
 * message) keeps `no-store` and every other header; `addCookie` keeps the response's own
 * cookies beside the session's; a response already written is left alone.
 */
import type { Context } from 'hono'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeResponseHeaders } from '../../src/node-response.js'

const { noStore: markNoStoreOnSocket, addCookie: addCookieOnSocket } = nodeResponseHeaders

const FORMS: Record<string, (res: ServerResponse) => void> = {
  object: (res) => res.writeHead(200, { 'Cache-Control': 'public', 'X-Kept': 'yes' }),
  'object, mixed case': (res) =>
    res.writeHead(200, { 'cache-CONTROL': 'max-age=60', 'X-Kept': 'yes' }),
  'status message': (res) =>
    res.writeHead(200, 'Fine', { 'cache-control': 'public', 'X-Kept': 'yes' }),
  'flat list': (res) => res.writeHead(200, ['Cache-Control', 'public', 'X-Kept', 'yes']),
  'no headers': (res) => {
    res.setHeader('X-Kept', 'yes')
    res.writeHead(200)
  },
  'setHeader after the mark': (res) => {
    res.setHeader('Cache-Control', 'public')
    res.setHeader('X-Kept', 'yes')
    res.writeHead(200)
  },
}

let url = ''
const server = createServer((req, res) => {
  const form = FORMS[decodeURIComponent(req.url!.slice(1))]!
  const marked = markNoStoreOnSocket({ env: { outgoing: res } } as unknown as Context)
  form(res)
  res.end(String(marked))
})

/** writeHead forms with cookies of the response's own, beside the session's `s=1`. */
const COOKIE_FORMS: Record<string, [(res: ServerResponse) => void, string[]]> = {
  'none of its own': [(res) => res.writeHead(200), []],
  'object, one': [(res) => res.writeHead(200, { 'Set-Cookie': 'a=1' }), ['a=1']],
  'object, list': [(res) => res.writeHead(200, { 'set-cookie': ['a=1', 'b=2'] }), ['a=1', 'b=2']],
  'flat list, two entries': [
    (res) => res.writeHead(200, 'OK', ['Set-Cookie', 'a=1', 'X-Kept', 'yes', 'set-cookie', 'b=2']),
    ['a=1', 'b=2'],
  ],
  'setHeader before the response': [
    (res) => {
      res.setHeader('Set-Cookie', ['a=1'])
      res.writeHead(200)
    },
    ['a=1'],
  ],
}
const cookieServer = createServer((req, res) => {
  const [form] = COOKIE_FORMS[decodeURIComponent(req.url!.slice(1))]!
  const marked = addCookieOnSocket({ env: { outgoing: res } } as unknown as Context, 's=1')
  form(res)
  res.end(String(marked))
})
let cookieUrl = ''
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  await new Promise<void>((r) => cookieServer.listen(0, '127.0.0.1', r))
  cookieUrl = `http://127.0.0.1:${(cookieServer.address() as AddressInfo).port}/`
})
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  await new Promise<void>((r) => cookieServer.close(() => r()))
})

describe('nodeResponseHeaders', () => {
  for (const form of Object.keys(FORMS)) {
    it(`keeps no-store against the handler's own Cache-Control: ${form}`, async () => {
      const res = await fetch(url + encodeURIComponent(form))
      expect([res.status, res.headers.get('cache-control'), res.headers.get('x-kept')]).toEqual([
        200,
        'no-store',
        'yes',
      ])
      expect(await res.text()).toBe('true')
    })
  }

  for (const [form, [, own]] of Object.entries(COOKIE_FORMS)) {
    it(`addCookie keeps the response's own cookies and adds the session's: ${form}`, async () => {
      const res = await fetch(cookieUrl + encodeURIComponent(form))
      expect(res.headers.getSetCookie()).toEqual([...own, 's=1'])
      expect(await res.text()).toBe('true')
    })
  }

  it('does nothing without a Node response, or once its headers are sent', () => {
    const c = (env: unknown) => ({ env }) as unknown as Context
    expect(markNoStoreOnSocket(c(undefined))).toBe(false)
    expect(markNoStoreOnSocket(c({ outgoing: { setHeader: 1 } }))).toBe(false)
    const sent = {
      headersSent: true,
      getHeader: () => {},
      setHeader: () => {},
      writeHead: () => {},
    }
    expect(markNoStoreOnSocket(c({ outgoing: sent }))).toBe(false)
    expect(addCookieOnSocket(c({ outgoing: sent }), 's=1')).toBe(false)
  })
})
