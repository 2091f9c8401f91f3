/**
 * The attacker's view: the demo app served over real HTTP on 127.0.0.1 (as `npm start` serves
 * it) on a real redis-server, clients with cookie jars that can copy and replay a token.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import { Redis } from 'ioredis'
import { createDemoApp, type DemoOptions } from '../../../demo/app.js'
import type { SessionEvent } from '../../../src/events.js'
import { ioredisStore, type IoredisStore } from '../../../src/store/ioredis.js'
import { totp } from '../../../src/totp.js'
import { HttpClient, serveHttp, type Outcome, type Served } from '../../helpers/load.js'
import { startRedis, type RedisServer } from '../../helpers/redis.js'
import { KEY_A } from '../../helpers/session-app.js'

export const codes = totp({ issuer: 'attack' })

export interface Target {
  served: Served
  store: IoredisStore
  raw: Redis
  events: SessionEvent[]
  client(): Attacker
  close(): Promise<void>
}

/** A browser, or an attacker holding a copy of someone's cookie. */
export class Attacker extends HttpClient {
  /** Replaces the jar with a copy of another client's cookies (a stolen or kept token). */
  steal(from: HttpClient): this {
    this.jar.cookies.clear()
    for (const [k, v] of from.jar.cookies) this.jar.cookies.set(k, v)
    return this
  }

  /** Keeps the cookies it has whatever the server answers (an attacker replaying a token). */
  frozen(): this {
    this.jar.take = (res: Response) => res
    return this
  }

  async json(method: string, path: string, form?: Record<string, string>): Promise<Outcome> {
    return this.request(method, path, form)
  }

  /** Signs in, enrols TOTP (asking for the password again) and confirms it; returns the secret. */
  async enrol(user = 'alice'): Promise<string> {
    const enrol = await this.request('POST', '/api/2fa/enrol', { password: `${user}-password` })
    if (enrol.status !== 200)
      throw new Error(`enrol: ${enrol.status} ${JSON.stringify(enrol.body)}`)
    const { secret } = enrol.body as { secret: string }
    const confirm = await this.request('POST', '/api/2fa/confirm', {
      code: codes.generate(secret, Date.now()),
    })
    if (confirm.status !== 200)
      throw new Error(`confirm: ${confirm.status} ${JSON.stringify(confirm.body)}`)
    return secret
  }
}

/** One redis-server and the demo on it, over HTTP. Call `reset()` between tests. */
export async function startTarget(options: Partial<DemoOptions> = {}): Promise<Target> {
  const server: RedisServer = await startRedis()
  const store = ioredisStore({ url: server.url })
  const raw = new Redis({ port: server.port, host: server.host })
  const events: SessionEvent[] = []
  const app = createDemoApp({
    store,
    keys: [KEY_A],
    insecureLocalhost: true,
    clientAddress: (c) => getConnInfo(c).remote.address,
    onEvent: (e) => {
      if (e.type !== 'store-call') events.push(e)
    },
    ...options,
  })
  const served = await serveHttp(app.fetch)
  return {
    served,
    store,
    raw,
    events,
    client: () => new Attacker(served, 10_000),
    async close() {
      await served.close()
      await store.close()
      raw.disconnect()
      await server.stop()
    },
  }
}

/** Every data field of every session hash in Redis, as stored (for size and dump checks). */
export async function dump(raw: Redis): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>()
  let cursor = '0'
  do {
    const [next, keys] = await raw.scan(cursor, 'COUNT', 500)
    cursor = next
    for (const key of keys) {
      if ((await raw.type(key)) === 'hash') out.set(key, await raw.hgetall(key))
      else if ((await raw.type(key)) === 'string') out.set(key, { value: (await raw.get(key))! })
    }
  } while (cursor !== '0')
  return out
}

/** `count` requests at once; their outcomes. */
export function burst(count: number, one: (i: number) => Promise<Outcome>): Promise<Outcome[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => one(i)))
}

/** How many outcomes have each status. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const o of outcomes) out[String(o.status)] = (out[String(o.status)] ?? 0) + 1
  return out
}
