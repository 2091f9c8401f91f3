/**
 * The package root as Node resolves it (`src/node.ts`, the `node` export condition): sessions
 * work end to end with node:crypto, a changed cookie is an anonymous session, and a cookie made
 * under WebCrypto (another instance, a Worker) is still read.
 */
import { describe, expect, it } from 'vitest'
import { cryptoBackend, useCryptoBackend } from '../../src/crypto/backend.js'
import { webCrypto } from '../../src/crypto/web.js'
import { session } from '../../src/node.js'
import { memoryStore } from '../../src/store/memory.js'
import { CookieJar, KEY_A, send, sessionApp } from '../helpers/session-app.js'

describe('the node entry', () => {
  it('exports the same API and seals with node:crypto', () => {
    expect(typeof session).toBe('function')
    expect(cryptoBackend().name).toBe('node:crypto')
  })

  it('sessions round-trip; a changed cookie reads as anonymous; WebCrypto cookies still open', async () => {
    const store = memoryStore()
    const app = sessionApp({ store, keys: [KEY_A] })
    const jar = new CookieJar()
    expect((await send(app, jar, 'POST', '/set/a', 1)).status).toBe(200)
    expect(await (await send(app, jar, 'GET', '/get/a')).json()).toEqual({ value: 1 })

    const cookie = jar.cookies.get('__Host-session')!
    const forged = new CookieJar()
    forged.cookies.set(
      '__Host-session',
      cookie.slice(0, -3) + (cookie.at(-3) === 'A' ? 'B' : 'A') + cookie.slice(-2),
    )
    expect(await (await send(app, forged, 'GET', '/get/a')).json()).toEqual({ value: null })

    // a session written by a WebCrypto instance (same keys, same store) is read here
    useCryptoBackend(webCrypto)
    const web = new CookieJar()
    await send(app, web, 'POST', '/set/b', 2)
    const { nodeCrypto } = await import('../../src/crypto/node.js')
    useCryptoBackend(nodeCrypto)
    expect(await (await send(app, web, 'GET', '/get/b')).json()).toEqual({ value: 2 })
  })
})
