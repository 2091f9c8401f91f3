/**
 * SECURITY.md C5, L5, L7, D2 and D3 by name, against the memory store and a real Redis (D3:
 * credentials and an ACL user on a real redis-server; the gateway's token and refused commands
 * are covered in test/gateway/protocol.test.ts).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { ioredisStore } from '../../src/store/ioredis.js'
import { demo } from '../helpers/demo.js'
import { startRedis, stopAll } from '../helpers/redis.js'
import { CookieJar } from '../helpers/session-app.js'
import { forEachStore } from '../helpers/stores.js'

forEachStore((newStore) => {
  it('C5: logout clears the cookie and deletes the store entry', async () => {
    const store = newStore()
    const d = demo(store)
    const jar = new CookieJar()
    await d.login(jar)
    const [mine] = (await (await d.call(jar, 'GET', '/api/sessions')).json()).sessions as {
      id: string
    }[]
    const res = await d.call(jar, 'POST', '/logout')
    expect(res.headers.get('set-cookie')).toMatch(/^session=; Max-Age=0/)
    expect((await store.listUser('alice', Date.now())).map((s) => s.id)).not.toContain(mine!.id)
    expect(
      await store.load(
        { id: mine!.id, uid: 'alice' },
        { now: Date.now(), extendIfBefore: 0, extendTo: 0 },
      ),
    ).toBeNull()
  })

  it('L5: log out everywhere removes every session of the user at once', async () => {
    const store = newStore()
    const d = demo(store)
    const jars = [new CookieJar(), new CookieJar(), new CookieJar(), new CookieJar()]
    for (const jar of jars) await d.login(jar, 'admin')
    expect(await store.listUser('admin', Date.now())).toHaveLength(4)
    expect(await (await d.call(jars[0]!, 'POST', '/api/logout-all')).json()).toEqual({
      destroyed: 4,
    })
    expect(await store.listUser('admin', Date.now())).toEqual([])
    for (const jar of jars.slice(1)) expect((await d.call(jar, 'GET', '/api/me')).status).toBe(401)
  })

  it('L7: users list their own sessions (created, last seen, client) and revoke one', async () => {
    const d = demo(newStore())
    const laptop = new CookieJar()
    const phone = new CookieJar()
    await d.login(laptop)
    await d.login(phone)
    const res = await d.app.request('http://localhost/api/sessions', {
      headers: { Cookie: laptop.header(), 'User-Agent': 'Laptop Browser/1.0' },
    })
    const { sessions } = (await res.json()) as {
      sessions: {
        id: string
        current: boolean
        createdAt: number
        lastSeenAt: number
        client?: string
      }[]
    }
    expect(sessions.length).toBeGreaterThanOrEqual(2)
    for (const s of sessions) {
      expect(s.createdAt).toBeGreaterThan(0)
      expect(s.lastSeenAt).toBeGreaterThanOrEqual(s.createdAt)
    }
    const other = sessions.find((s) => !s.current)!
    expect((await d.call(laptop, 'DELETE', `/api/sessions/${other.id}`)).status).toBe(200)
    const after = (await (await d.call(laptop, 'GET', '/api/sessions')).json()).sessions as {
      id: string
    }[]
    expect(after.map((s) => s.id)).not.toContain(other.id)
    // one user cannot revoke another user's session: ids are looked up under the caller's user
    const mallory = new CookieJar()
    await d.login(mallory, 'admin')
    await d.call(mallory, 'DELETE', `/api/sessions/${sessions.find((s) => s.current)!.id}`)
    expect((await d.call(laptop, 'GET', '/api/me')).status).toBe(200)
  })

  it('D2: values are validated on the way in; nothing half-written', async () => {
    const d = demo(newStore())
    const jar = new CookieJar()
    await d.login(jar)
    await d.call(jar, 'PUT', '/api/prefs/a', { value: 'kept' })
    expect((await d.call(jar, 'PUT', '/api/prefs/b', { value: 'x'.repeat(5000) })).status).toBe(400)
    expect((await d.call(jar, 'PUT', '/api/prefs/bad$name', { value: 'x' })).status).toBe(400)
    expect(await (await d.call(jar, 'GET', '/api/prefs')).json()).toEqual({ a: 'kept' })
  })
})

describe('D3: Redis credentials and ACL users', () => {
  afterAll(stopAll)

  it('connects with a password and with an ACL user; a wrong password is a clear StoreError', async () => {
    const server = await startRedis({ password: 's3cret-pass' })
    await server.cli(
      'ACL',
      'SETUSER',
      'sessions',
      'on',
      '>user-pass',
      '~sess:*',
      '+@all',
      '-@dangerous',
      '+info',
    )
    const byPassword = ioredisStore({ url: `redis://:s3cret-pass@127.0.0.1:${server.port}` })
    const byAcl = ioredisStore({ url: `redis://sessions:user-pass@127.0.0.1:${server.port}` })
    const wrong = ioredisStore({
      url: `redis://sessions:nope@127.0.0.1:${server.port}`,
      commandTimeoutMs: 300,
    })
    try {
      for (const store of [byPassword, byAcl]) {
        const d = demo(store)
        const jar = new CookieJar()
        expect((await d.login(jar)).status).toBe(303)
        expect((await d.call(jar, 'GET', '/api/me')).status).toBe(200)
      }
      const err = await wrong.ping().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreError)
      expect(String((err as Error).message)).not.toContain('nope')
    } finally {
      await Promise.all([byPassword.close(), byAcl.close(), wrong.close()])
    }
  })
})
