/**
 * Horizontal scaling: several app instances (separate Node HTTP servers on loopback, each with
 * its own store client, the same key ring, one Redis) behave as one, with no sticky routing.
 * Pairs: two ioredis instances, and an ioredis instance next to an Upstash-store instance that
 * reaches the same Redis through the gateway. A session created on one is read, changed,
 * rotated (rotateEvery 1 s, real time) and destroyed on another.
 *
 * (A Worker under `wrangler dev` is not part of this file: the workerd tests cover the Worker
 * against the gateway; see docs/operations.md.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../../demo/app.js'
import { createGateway, listen, type RunningGateway } from '../../src/gateway/index.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import { ioredisStore, type IoredisStore } from '../../src/store/ioredis.js'
import { upstashStore } from '../../src/store/upstash.js'
import type { Store } from '../../src/store/types.js'
import { figures, HttpClient, serveHttp, sleep, type Served } from '../helpers/load.js'
import { startRedis, stopAll, type RedisServer } from '../helpers/redis.js'
import { KEY_A, KEY_B } from '../helpers/session-app.js'

const TOKEN = 'scaling-token-0123456789abcdef'
const ROTATE_EVERY_S = 1
const GRACE_S = 1

let redis: RedisServer
let gw: RunningGateway
let gwClient: ReturnType<typeof connectRedis>
const closers: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  redis = await startRedis()
  gwClient = connectRedis({ url: redis.url, stringNumbers: true, logger: () => {} })
  gw = await listen(createGateway({ redis: gwClient, tokens: [TOKEN] }), { port: 0 })
})
afterAll(async () => {
  for (const close of closers.reverse()) await close()
  await gw?.stop()
  gwClient?.disconnect()
  await stopAll()
}, 60_000)

async function instance(kind: 'ioredis' | 'upstash'): Promise<Served> {
  let store: Store
  if (kind === 'ioredis') {
    const s: IoredisStore = ioredisStore({ url: redis.url, logger: () => {} })
    closers.push(() => s.close())
    store = s
  } else {
    store = upstashStore({ url: gw.url, token: TOKEN })
  }
  const served = await serveHttp(
    createDemoApp({
      store,
      // the same ring everywhere; KEY_B listed too, as during a key rotation
      keys: [KEY_A, KEY_B],
      insecureLocalhost: true,
      rotateEvery: ROTATE_EVERY_S,
      rotationGrace: GRACE_S,
    }).fetch,
  )
  closers.push(() => served.close())
  return served
}

describe.each([
  ['ioredis', 'ioredis'],
  ['ioredis', 'upstash'],
] as const)('instances %s + %s on one Redis', (kindA, kindB) => {
  let a: Served
  let b: Served
  beforeAll(async () => {
    a = await instance(kindA)
    b = await instance(kindB)
  })

  it('create on one, read/change on the other, concurrent writes alternate between them', async () => {
    const c = new HttpClient(a)
    expect((await c.login('alice', a)).status).toBe(303)
    expect((await c.request('GET', '/api/me', undefined, 0, b)).body).toEqual({
      user: 'alice',
      roles: ['user'],
    })
    expect((await c.request('PUT', '/api/prefs/theme', { value: 'dark' }, 0, b)).status).toBe(200)
    expect((await c.request('GET', '/api/prefs', undefined, 0, a)).body).toEqual({ theme: 'dark' })
    // 40 writes of different fields, round-robin over the instances, all at once
    const res = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        c.request('PUT', `/api/prefs/f${i}`, { value: String(i) }, 0, i % 2 ? a : b),
      ),
    )
    expect(res.map((r) => r.status)).toEqual(res.map(() => 200))
    const prefs = (await c.request('GET', '/api/prefs', undefined, 0, b)).body as Record<
      string,
      string
    >
    for (let i = 0; i < 40; i++) expect(prefs[`f${i}`]).toBe(String(i))
    // the counter moves through both instances as one
    for (let i = 1; i <= 6; i++) {
      const r = await c.request('POST', '/api/counter', undefined, 0, i % 2 ? a : b)
      expect(r.body).toEqual({ count: i })
    }
  })

  it('rotation on one instance is honoured by the other (grace window, then dead)', async () => {
    const c = new HttpClient(a)
    await c.login('alice', a)
    const before = c.token()!
    await sleep(ROTATE_EVERY_S * 1000 + 200)
    // the first request after rotateEvery, on B, rotates the secret
    expect((await c.request('GET', '/api/me', undefined, 0, b)).status).toBe(200)
    const after = c.token()!
    expect(after).not.toBe(before)
    // the new token works on A; the old one still works inside the grace window, on A
    expect((await c.request('GET', '/api/me', undefined, 0, a)).status).toBe(200)
    const stale = new HttpClient(a)
    stale.jar.cookies.set('session', before)
    const inGrace = (await stale.request('GET', '/api/me', undefined, 0, a)).status
    await sleep(GRACE_S * 1000 + 500)
    const old = new HttpClient(a)
    old.jar.cookies.set('session', before)
    const afterGraceA = (await old.request('GET', '/api/me', undefined, 0, a)).status
    old.jar.cookies.set('session', before)
    const afterGraceB = (await old.request('GET', '/api/me', undefined, 0, b)).status
    figures('ha-scaling', {
      pair: `${kindA}+${kindB}`,
      rotated: after !== before,
      oldTokenInGrace: inGrace,
      oldTokenAfterGraceA: afterGraceA,
      oldTokenAfterGraceB: afterGraceB,
    })
    expect(inGrace).toBe(200)
    expect(afterGraceA).toBe(401)
    expect(afterGraceB).toBe(401)
    // the current token keeps working on both
    expect((await c.request('GET', '/api/me', undefined, 0, b)).status).toBe(200)
  })

  it('destroy on one instance is final on the other; log out everywhere spans instances', async () => {
    const c = new HttpClient(a)
    await c.login('alice', a)
    const token = c.token()!
    expect((await c.request('POST', '/logout', undefined, 0, b)).status).toBe(303)
    const replay = new HttpClient(a)
    replay.jar.cookies.set('session', token)
    expect((await replay.request('GET', '/api/me', undefined, 0, a)).status).toBe(401)

    const onA = new HttpClient(a)
    const onB = new HttpClient(b)
    await onA.login('admin', a)
    await onB.login('admin', b)
    const listed = (await onA.request('GET', '/api/sessions', undefined, 0, b)).body as {
      sessions: unknown[]
    }
    expect(listed.sessions.length).toBeGreaterThanOrEqual(2)
    const out = (await onB.request('POST', '/api/logout-all', undefined, 0, a)).body as {
      destroyed: number
    }
    expect(out.destroyed).toBeGreaterThanOrEqual(2)
    expect((await onA.request('GET', '/api/me', undefined, 0, b)).status).toBe(401)
    expect((await onB.request('GET', '/api/me', undefined, 0, a)).status).toBe(401)
  })
})
