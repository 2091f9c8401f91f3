/**
 * The Session API under attack (security issue, findings 7, 10 and 11): responses that depend on
 * a session left cacheable, what a Redis dump shows with `encryptAtRest`, a user id that is not
 * well-formed Unicode, and intents whose outcome depended on the order of the calls.
 */
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { session, type SessionEnv } from '../../../src/index.js'
import { Session } from '../../../src/session/session.js'
import { memoryStore } from '../../../src/store/memory.js'
import type { Store } from '../../../src/store/types.js'
import { stopAll } from '../../helpers/redis.js'
import { CookieJar, KEY_A, send } from '../../helpers/session-app.js'
import { dump, startTarget, type Target } from './harness.js'

let t: Target
let sealed: Target
beforeAll(async () => {
  t = await startTarget()
  sealed = await startTarget({ encryptAtRest: true })
})
afterAll(async () => {
  await t.close()
  await sealed.close()
  await stopAll()
})

describe('attack: a devices listing is cacheable', () => {
  it('GET /api/sessions carries Cache-Control: no-store', async () => {
    const c = t.client()
    await c.login()
    const res = await fetch(`${t.served.url}/api/sessions`, {
      headers: { Cookie: c.jar.header() },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  type S = Session<Record<string, unknown>>
  /** One use of every public member of Session, by name. */
  const uses: Record<string, (s: S) => unknown> = {
    isNew: (s) => s.isNew,
    userId: (s) => s.userId,
    id: (s) => s.id,
    get: (s) => s.get('a'),
    has: (s) => s.has('a'),
    all: (s) => s.all(),
    set: (s) => s.set('a', 1),
    delete: (s) => s.delete('a'),
    increment: (s) => s.increment('n'),
    flash: (s) => s.flash('f'),
    regenerate: (s) => s.regenerate(),
    authenticate: (s) => s.authenticate('walker'),
    setRoles: (s) => s.setRoles(['user']),
    updateUserRoles: (s) => s.updateUserRoles('walker', ['user']),
    stepUp: (s) => s.stepUp('otp'),
    revokeMethod: (s) => s.revokeMethod('otp'),
    permissions: (s) => s.permissions(),
    countEvent: (s) => s.countEvent('e', 60_000),
    reserve: (s) => s.reserve('r', { limit: 3, windowMs: 60_000 }),
    claimOnce: (s) => s.claimOnce('c', 60_000),
    readUserSecret: (s) => s.readUserSecret('v'),
    writeUserSecret: (s) => s.writeUserSecret('v', 'x'),
    info: (s) => s.info(),
    destroy: (s) => s.destroy(),
    listSessions: (s) => s.listSessions(),
    revoke: (s) => s.revoke('A'.repeat(43)),
    destroyAll: (s) => s.destroyAll(),
    destroyOthers: (s) => s.destroyOthers(),
  }

  it('every Session member that depends on the session marks the response no-store', async () => {
    // `now()` is the middleware's clock, the same for every session: the one exception.
    const members = Object.getOwnPropertyNames(Session.prototype).filter(
      (m) => m !== 'constructor' && m !== 'now',
    )
    expect(members.sort()).toEqual(Object.keys(uses).sort())
    const store = memoryStore()
    const app = new Hono<SessionEnv>()
    app.use(session({ keys: [KEY_A], store, insecureLocalhost: true }))
    app.post('/login', (c) => {
      c.get('session').authenticate('walker')
      return c.text('in')
    })
    app.post('/use/:member', async (c) => {
      await uses[c.req.param('member')]!(c.get('session') as S)
      return c.text('done')
    })
    for (const member of members) {
      const jar = new CookieJar()
      await send(app, jar, 'POST', '/login')
      const res = await send(app, jar, 'POST', `/use/${member}`)
      expect([member, res.status]).toEqual([member, 200])
      expect([member, res.headers.get('cache-control')]).toEqual([member, 'no-store'])
    }
  })
})

describe('attack: a dump shows client hints and methods', () => {
  it('with encryptAtRest no session value, client hint or method is readable in Redis', async () => {
    const agent = 'AttackBrowser/9.9 (dump-marker)'
    const login = await fetch(`${sealed.served.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        Origin: sealed.served.origin,
        'User-Agent': agent,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'username=alice&password=alice-password',
    })
    expect(login.status).toBe(303)
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!
    const put = await fetch(`${sealed.served.url}/api/prefs/colour`, {
      method: 'PUT',
      headers: {
        Origin: sealed.served.origin,
        Cookie: cookie,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'value=ultraviolet-marker',
    })
    expect(put.status).toBe(200)
    const text = JSON.stringify([...(await dump(sealed.raw))])
    expect(text).not.toContain('AttackBrowser')
    expect(text).not.toContain('ultraviolet-marker')
    expect(text).not.toContain('"pwd"')
    expect(text).not.toContain('pwd')
    // roles and the user id stay readable (the per-user index and updateUserRoles need them)
    expect(text).toContain('{alice}')
    // the owner still sees the client hint of the device
    const list = await fetch(`${sealed.served.url}/api/sessions`, { headers: { Cookie: cookie } })
    const { sessions } = (await list.json()) as { sessions: { client: string; amr: string[] }[] }
    expect(sessions[0]).toMatchObject({ client: agent, amr: ['pwd'] })
  })
})

/** A library app whose routes run a list of intents in one request. */
function intentApp(store: Store) {
  const app = new Hono<SessionEnv>()
  app.use(session({ keys: [KEY_A], store, insecureLocalhost: true }))
  app.post('/login/:user', (c) => {
    c.get('session').authenticate(c.req.param('user'), { roles: ['user'], amr: ['pwd'] })
    return c.text('in')
  })
  app.post('/run', async (c) => {
    const s = c.get('session')
    for (const name of (await c.req.json()) as string[]) await (INTENTS[name] ?? destroy)(s)
    return c.text('done')
  })
  app.get('/info', async (c) => c.json(await c.get('session').info()))
  return app
}

const INTENTS: Record<string, (s: Session) => unknown> = {
  regenerate: (s) => s.regenerate(),
  'authenticate(same user)': (s) => s.authenticate('ivy', { roles: ['user'], amr: ['pwd'] }),
  'authenticate(other user)': (s) => s.authenticate('oak', { roles: ['guest'], amr: ['pwd'] }),
  'setRoles(editor)': (s) => s.setRoles(['editor']),
  'updateUserRoles(self, editor)': (s) => s.updateUserRoles('ivy', ['editor']),
  'stepUp(otp)': (s) => s.stepUp('otp'),
}

/** Not one of the pairs: destroy is a boundary by definition (see the last test below). */
const destroy = (s: Session) => s.destroy()

describe('attack: intents depend on their order', () => {
  const store = memoryStore()
  const app = intentApp(store)

  /** Runs `names` in one request on a fresh signed-in session of ivy; the outcome. */
  async function outcome(names: string[]) {
    const jar = new CookieJar()
    await send(app, jar, 'POST', '/login/ivy')
    const before = jar.header()
    await new Promise((r) => setTimeout(r, 2)) // so that a new auth time is visible
    const res = await send(app, jar, 'POST', '/run', names)
    expect(res.status).toBe(200)
    const info = (await (await send(app, jar, 'GET', '/info')).json()) as {
      userId: string
      roles: string[]
      amr: string[]
    } | null
    return {
      newSecret: jar.header() !== before,
      userId: info?.userId,
      roles: info?.roles,
      amr: info?.amr,
    }
  }

  const names = Object.keys(INTENTS)
  for (const a of names) {
    for (const b of names) {
      // two calls of one member are not two intents: the last one wins (tested below)
      if (a >= b || (a.startsWith('authenticate') && b.startsWith('authenticate'))) continue
      it(`${a} + ${b}: the same in either order`, async () => {
        const ab = await outcome([a, b])
        const ba = await outcome([b, a])
        expect(ba).toEqual(ab)
        expect(ab.newSecret).toBe(true)
      })
    }
  }

  it('the documented rule: roles set explicitly win, a step-up holds only for the same user', async () => {
    expect(await outcome(['stepUp(otp)', 'authenticate(same user)'])).toMatchObject({
      userId: 'ivy',
      amr: ['pwd', 'otp'],
    })
    expect(await outcome(['authenticate(other user)', 'stepUp(otp)'])).toMatchObject({
      userId: 'oak',
      roles: ['guest'],
      amr: ['pwd'],
    })
    expect(await outcome(['authenticate(other user)', 'authenticate(same user)'])).toMatchObject({
      userId: 'ivy',
    })
    expect(await outcome(['authenticate(same user)', 'authenticate(other user)'])).toMatchObject({
      userId: 'oak',
    })
    expect(await outcome(['setRoles(editor)', 'authenticate(same user)'])).toMatchObject({
      roles: ['editor'],
    })
    expect(
      await outcome(['updateUserRoles(self, editor)', 'authenticate(same user)']),
    ).toMatchObject({ roles: ['editor'] })
  })

  it('destroy is a boundary: intents before it end with the session, intents after it start a new one', async () => {
    expect(await outcome(['stepUp(otp)', 'destroy'])).toMatchObject({
      userId: undefined,
    })
    expect(await outcome(['destroy', 'authenticate(other user)'])).toMatchObject({
      userId: 'oak',
      amr: ['pwd'],
    })
  })
})

describe('attack: a user id that is not well-formed Unicode', () => {
  it('authenticate() refuses a lone surrogate with a 400-class error, never a 503', async () => {
    const app = new Hono<SessionEnv>()
    app.use(session({ keys: [KEY_A], store: t.store, insecureLocalhost: true }))
    app.post('/login', async (c) => {
      c.get('session').authenticate(((await c.req.json()) as { user: string }).user)
      return c.text('in')
    })
    for (const user of ['\ud800', 'a\udc00b', 'x\ud83d']) {
      const res = await send(app, new CookieJar(), 'POST', '/login', { user })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'ERR_SESSION_INPUT' })
    }
    // a well-formed astral character is fine
    expect((await send(app, new CookieJar(), 'POST', '/login', { user: 'a😀' })).status).toBe(200)
  })
})
