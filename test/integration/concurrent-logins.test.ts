/**
 * Concurrent sign-ins of one user all reach the user's session index: each login adds its
 * session in the same store step that creates it (a script on Redis, one synchronous step in
 * memory), so none can overwrite another's entry. The bench's probe of better-auth 1.7
 * (bench/better-auth-probes.ts) shows the failure this rules out: its per-user list is a JSON
 * array read and written back: 21 concurrent sign-ins left 1 entry, and "sign out other
 * devices", which revokes what the list names, left 19 of the other 20 signed in.
 */
import { afterAll, expect, it } from 'vitest'
import { ioredisStore } from '../../src/store/ioredis.js'
import { startCluster, startRedis, stopAll } from '../helpers/redis.js'
import { CookieJar, send, sessionApp } from '../helpers/session-app.js'
import { acrossStores, MEMORY, type StoreSetup } from '../helpers/stores.js'

// Bounds far above the defaults (500 ms a command): 200 logins land at once on a shared
// machine, and this file counts what they leave in the index, not how fast they run
const BOUND_MS = 30_000
const bounded = { commandTimeoutMs: BOUND_MS, logger: () => {} }
const STANDALONE: StoreSetup = {
  name: 'ioredis store',
  async setup() {
    const store = ioredisStore({ url: (await startRedis()).url, ...bounded })
    return { store, cleanup: () => store.close() }
  },
}
const CLUSTER: StoreSetup = {
  name: 'ioredis store on Redis Cluster',
  async setup() {
    const cluster = await startCluster({ replicasPerMaster: 0 })
    const store = ioredisStore({ cluster: cluster.startupNodes, ...bounded })
    return { store, cleanup: () => store.close() }
  },
}

let users = 0
afterAll(stopAll)
acrossStores([MEMORY, STANDALONE, CLUSTER], (newStore) => {
  for (const n of [21, 200]) {
    it(`${n} concurrent logins of one user: the index lists exactly ${n}; signing out the others reaches all`, async () => {
      const store = newStore()
      const app = sessionApp({ store, insecureLocalhost: true, storeTimeoutMs: BOUND_MS })
      app.post('/sign-out-others', async (c) =>
        c.json({ n: await c.get('session').destroyOthers() }),
      )
      const uid = `concurrent-${users++}`
      const jars = Array.from({ length: n }, () => new CookieJar())
      const answers = await Promise.all(jars.map((jar) => send(app, jar, 'POST', `/login/${uid}`)))
      expect(answers.map((r) => r.status)).toEqual(jars.map(() => 200))
      const listed = await store.listUser(uid, Date.now())
      expect(listed).toHaveLength(n)
      expect(new Set(listed.map((s) => s.id)).size).toBe(n)
      // every cookie still reaches its own session, which names the user
      const infos = await Promise.all(jars.map(async (jar) => send(app, jar, 'GET', '/info')))
      const ids = new Set<string>()
      for (const res of infos) {
        const { info } = (await res.json()) as { info: { id: string; userId: string } | null }
        expect(info?.userId).toBe(uid)
        ids.add(info!.id)
      }
      expect(ids).toEqual(new Set(listed.map((s) => s.id)))
      // "sign out every other device" reaches all of them: only the caller's session is left
      const [mine, ...others] = jars
      const signedOut = await send(app, mine!, 'POST', '/sign-out-others')
      expect(await signedOut.json()).toEqual({ n: n - 1 })
      expect(await store.listUser(uid, Date.now())).toHaveLength(1)
      for (const res of await Promise.all(others.map((jar) => send(app, jar, 'GET', '/info'))))
        expect(((await res.json()) as { info: unknown }).info).toBeNull()
    })
  }
})
