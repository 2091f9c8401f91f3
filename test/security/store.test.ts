/**
 * SECURITY.md A2 (privilege changes reach every session of the user on its next request) and
 * D1 (with at-rest encryption, a dump of Redis shows neither the secret nor any value), on a
 * real Redis; A2 also on the memory store.
 */
import { Hono } from 'hono'
import { Redis } from 'ioredis'
import { base64url, compactDecrypt } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { requireRole, session, type SessionEnv } from '../../src/index.js'
import { ioredisStore } from '../../src/store/ioredis.js'
import type { Store } from '../../src/store/types.js'
import { startRedis, stopAll } from '../helpers/redis.js'
import { CookieJar, KEY_A, send } from '../helpers/session-app.js'
import { forEachStore } from '../helpers/stores.js'

afterAll(stopAll)

function app(store: Store, encryptAtRest = false) {
  const a = new Hono<SessionEnv>()
  a.use(session({ keys: [KEY_A], store, encryptAtRest }))
  a.post('/login/:user', (c) => {
    c.get('session').authenticate(c.req.param('user'), {
      roles: (c.req.query('roles') ?? 'user').split(','),
    })
    return c.json({ ok: true })
  })
  a.post('/roles/:user', async (c) => {
    const n = await c
      .get('session')
      .updateUserRoles(c.req.param('user'), (await c.req.json()) as string[])
    return c.json({ updated: n })
  })
  a.get('/admin', requireRole('admin'), (c) => c.text('admin'))
  a.post('/secret', async (c) => {
    c.get('session').set('card', 'PLAINTEXT-CARD-4111')
    c.get('session').set('note', { text: 'PLAINTEXT-NOTE' })
    return c.json({ ok: true })
  })
  a.get('/secret', async (c) => c.json(await c.get('session').all()))
  return a
}

forEachStore((newStore) => {
  it('A2: a role change reaches every session of the user on its next request', async () => {
    const store = newStore()
    const a = app(store)
    const laptop = new CookieJar()
    const phone = new CookieJar()
    const root = new CookieJar()
    await send(a, laptop, 'POST', '/login/a2-user?roles=user')
    await send(a, phone, 'POST', '/login/a2-user?roles=user')
    await send(a, root, 'POST', '/login/a2-root?roles=user,admin')
    expect((await send(a, phone, 'GET', '/admin')).status).toBe(403)
    // one round trip updates both sessions of a2-user
    expect(await (await send(a, root, 'POST', '/roles/a2-user', ['user', 'admin'])).json()).toEqual(
      { updated: 2 },
    )
    expect((await send(a, laptop, 'GET', '/admin')).status).toBe(200)
    expect((await send(a, phone, 'GET', '/admin')).status).toBe(200)
    // and taking the role away takes effect just as fast
    await send(a, root, 'POST', '/roles/a2-user', ['user'])
    expect((await send(a, laptop, 'GET', '/admin')).status).toBe(403)
    expect((await send(a, phone, 'GET', '/admin')).status).toBe(403)
  })
})

describe('D1 on a real Redis', () => {
  it('with encryptAtRest, a dump of every key shows neither the secret nor any value', async () => {
    const server = await startRedis()
    const store = ioredisStore({ url: server.url })
    const raw = new Redis({ port: server.port })
    try {
      const a = app(store, true)
      const jar = new CookieJar()
      await send(a, jar, 'POST', '/login/d1-user')
      await send(a, jar, 'POST', '/secret')
      expect(await (await send(a, jar, 'GET', '/secret')).json()).toEqual({
        card: 'PLAINTEXT-CARD-4111',
        note: { text: 'PLAINTEXT-NOTE' },
      })
      const token = jar.cookies.get('__Host-session')!
      const claims = JSON.parse(
        new TextDecoder().decode(
          (await compactDecrypt(token, base64url.decode(KEY_A.secret))).plaintext,
        ),
      ) as { sid: string; dk: string }
      let dump = ''
      let cursor = '0'
      do {
        const [next, keys] = await raw.scan(cursor, 'COUNT', 1000)
        cursor = next
        for (const key of keys) {
          const type = await raw.type(key)
          dump += `${key} ${type} `
          if (type === 'hash') dump += JSON.stringify(await raw.hgetall(key))
          dump += (await raw.dumpBuffer(key))?.toString('latin1') ?? ''
        }
      } while (cursor !== '0')
      expect(dump).toContain('d1-user') // the uid is metadata the scripts need, in the clear
      for (const secret of ['PLAINTEXT', '4111', claims.sid, claims.dk])
        expect(dump).not.toContain(secret)
    } finally {
      raw.disconnect()
      await store.close()
    }
  })
})
