/**
 * Subscriptions with the official @upstash/redis client, unmodified, through the gateway to a
 * real standalone redis-server, a Sentinel group (1 master + 1 replica + 3 sentinels) and a
 * 3+3 Cluster: messages reach channel and pattern subscribers, every stream holds one Redis
 * connection of its own and gives it back when the client goes away (counted on the servers),
 * the cap, the tokens, and a gateway that stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis as Upstash } from '@upstash/redis'
import { Redis, type Cluster } from 'ioredis'
import { Hono } from 'hono'
import {
  createGateway,
  listen,
  type Gateway,
  type RunningGateway,
} from '../../src/gateway/index.js'
import { createAuthenticator } from '../../src/gateway/auth.js'
import { createSubscriptions } from '../../src/gateway/subscriptions.js'
import { connectRedis } from '../../src/store/ioredis-connect.js'
import {
  startCluster,
  startRedis,
  startSentinelGroup,
  stopAll,
  type RedisServer,
} from '../helpers/redis.js'
import {
  connectedClients,
  pubsubConnections,
  record,
  subscribed,
  until,
} from '../helpers/subscriptions.js'

const TOKEN = 'subscribe-test-token-0123456789'
const READ_ONLY = 'subscribe-readonly-token-0123456789'

afterAll(stopAll)

/** A gateway over `redis` on a free port; PUBLISH opened with the operator's option. */
async function serve(redis: Redis | Cluster, maxSubscribers?: number) {
  const gateway: Gateway = createGateway({
    redis,
    tokens: [TOKEN],
    readOnlyTokens: [READ_ONLY],
    allowCommands: ['PUBLISH'],
    ...(maxSubscribers === undefined ? {} : { maxSubscribers }),
  })
  const running: RunningGateway = await listen(gateway, { port: 0 })
  const sockets = () =>
    new Promise<number>((resolve, reject) =>
      running.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
    )
  return { gateway, running, sockets, client: new Upstash({ url: running.url, token: TOKEN }) }
}

const topologies = {
  standalone: async () => {
    const server = await startRedis()
    return {
      servers: [server],
      redis: connectRedis({ url: server.url, stringNumbers: true, logger: () => {} }),
    }
  },
  sentinel: async () => {
    const group = await startSentinelGroup({ replicas: 1, sentinels: 3 })
    const redis = connectRedis({
      sentinels: group.sentinelAddrs,
      name: group.name,
      stringNumbers: true,
      logger: () => {},
    })
    return { servers: [group.master, ...group.replicas], redis }
  },
  cluster: async () => {
    const cluster = await startCluster()
    return {
      servers: cluster.nodes,
      redis: connectRedis({ cluster: cluster.startupNodes, stringNumbers: true, logger: () => {} }),
    }
  },
}

describe.each(Object.keys(topologies) as (keyof typeof topologies)[])(
  'subscriptions through the gateway (%s)',
  (topology) => {
    let servers: RedisServer[]
    let redis: Redis | Cluster
    let gw: Awaited<ReturnType<typeof serve>>

    beforeAll(async () => {
      ;({ servers, redis } = await topologies[topology]())
      gw = await serve(redis)
      // the shared connections are up before the baselines are taken (a Cluster client
      // connects to each node on first use)
      await gw.client.ping() // a Cluster client knows its nodes once it is ready
      const nodes = 'nodes' in redis ? redis.nodes('all') : [redis]
      await Promise.all(nodes.map((node) => node.ping()))
    }, 60_000)

    afterAll(async () => {
      await gw?.running.stop()
      redis?.disconnect()
    })

    it('a message published through the gateway reaches a channel and a pattern subscriber, each on its own connection, while the shared one serves commands', async () => {
      const before = {
        pubsub: await pubsubConnections(servers),
        all: await connectedClients(servers),
      }
      const channel = await subscribed(gw.client, 'subscribe', `news-${topology}`)
      const pattern = await subscribed(gw.client, 'psubscribe', `news-${topology.slice(0, 3)}*`)
      expect(channel.confirmations).toEqual([1])
      expect(pattern.confirmations).toEqual([1])
      expect(gw.gateway.subscribers()).toBe(2)
      // two connections more, both in subscriber mode: the shared one stays a command connection
      expect(await pubsubConnections(servers)).toBe(before.pubsub + 2)
      expect(await connectedClients(servers)).toBe(before.all + 2)
      // ... and serves commands meanwhile
      const key = `{sub-${topology}}:k`
      expect(await gw.client.set(key, 'v')).toBe('OK')
      expect(await gw.client.get(key)).toBe('v')
      expect(await gw.client.incr(`{sub-${topology}}:n`)).toBe(1)

      const receivers = await gw.client.publish(`news-${topology}`, { hello: 'world', n: 1 })
      // a Cluster node counts only its own subscribers (it broadcasts to the others)
      if (topology !== 'cluster') expect(receivers).toBe(2)
      await until(
        () => channel.messages.length === 1 && pattern.messages.length === 1,
        'both got the message',
      )
      expect(channel.messages).toEqual([
        { channel: `news-${topology}`, message: { hello: 'world', n: 1 } },
      ])
      expect(pattern.messages).toEqual([
        {
          pattern: `news-${topology.slice(0, 3)}*`,
          channel: `news-${topology}`,
          message: { hello: 'world', n: 1 },
        },
      ])
      expect([...channel.errors, ...pattern.errors]).toEqual([])

      await channel.sub.unsubscribe()
      await pattern.sub.unsubscribe()
      await until(async () => gw.gateway.subscribers() === 0, 'streams closed')
      await until(
        async () => (await pubsubConnections(servers)) === before.pubsub,
        'subscriber connections closed',
      )
      expect(await connectedClients(servers)).toBe(before.all)
    })

    it('100 subscribe/disconnect cycles leave no connection behind, in Redis or in the gateway', async () => {
      const before = {
        all: await connectedClients(servers),
        pubsub: await pubsubConnections(servers),
        sockets: await gw.sockets(),
      }
      let peak = 0
      for (let i = 0; i < 100; i++) {
        const r = await subscribed(gw.client, i % 2 ? 'psubscribe' : 'subscribe', `cycle-${i}`)
        expect(r.confirmations).toEqual([1])
        peak = Math.max(peak, gw.gateway.subscribers())
        await r.sub.unsubscribe()
      }
      await until(async () => gw.gateway.subscribers() === 0, 'no stream left')
      await until(
        async () => (await connectedClients(servers)) === before.all,
        'Redis connections back to where they were',
      )
      expect(await pubsubConnections(servers)).toBe(before.pubsub)
      await until(async () => (await gw.sockets()) <= before.sockets, 'no socket left')
      expect(peak).toBeGreaterThanOrEqual(1)
    })

    if (topology === 'sentinel')
      it(
        'Sentinel: the master killed, the stream subscribes again on the promoted replica and gets what is published there',
        { timeout: 60_000 },
        async () => {
          const [master, replica] = servers as [RedisServer, RedisServer]
          const r = await subscribed(gw.client, 'subscribe', 'failover')
          await master.kill()
          await until(() => r.confirmations.length === 2, 'subscribed again', 1500)
          expect(await replica.cli('PUBSUB', 'NUMSUB', 'failover')).toBe('failover\n1')
          const publish = () => gw.client.publish('failover', { after: true }).catch(() => 0)
          await until(async () => (await publish()) === 1, 'published on the new master', 1500)
          await until(() => r.messages.length === 1, 'delivered')
          expect(r.messages).toEqual([{ channel: 'failover', message: { after: true } }])
          await r.sub.unsubscribe()
          await until(() => gw.gateway.subscribers() === 0, 'closed')
        },
      )

    if (topology === 'cluster')
      it('Cluster: spreads subscribers over the masters, and a message published on any node reaches them', async () => {
        const direct = servers.map((s) => new Redis({ host: s.host, port: s.port, protocol: 2 }))
        try {
          const subs = await Promise.all(
            [0, 1, 2].map(() => subscribed(gw.client, 'subscribe', 'everywhere')),
          )
          // one per master: round robin over the three
          const perNode = await Promise.all(servers.map((s) => pubsubConnections([s])))
          expect(perNode.filter((n) => n === 1)).toHaveLength(3)
          for (const [i, node] of direct.entries()) await node.publish('everywhere', `from-${i}`)
          const sent = direct.map((_, i) => `from-${i}`)
          await until(
            () => subs.every((s) => s.messages.length === sent.length),
            'every message on every stream',
          )
          // each node's messages in order; across nodes, in the order the cluster bus brings them
          for (const s of subs) expect(s.messages.map((m) => m.message).sort()).toEqual(sent)
          await Promise.all(subs.map((s) => s.sub.unsubscribe()))
          await until(async () => (await pubsubConnections(servers)) === 0, 'closed')
        } finally {
          direct.forEach((d) => d.disconnect())
        }
      })
  },
)

describe('subscriptions: limits, tokens, shutdown and Redis restarts (standalone)', () => {
  let server: RedisServer
  let redis: Redis | Cluster

  beforeAll(async () => {
    server = await startRedis()
    redis = connectRedis({ url: server.url, stringNumbers: true, logger: () => {} })
  })

  afterAll(() => redis?.disconnect())

  it('refuses the subscriber over the cap with 503 and opens no connection for it; a freed place is reused', async () => {
    const gw = await serve(redis, 2)
    try {
      const first = await subscribed(gw.client, 'subscribe', 'capped')
      const second = await subscribed(gw.client, 'psubscribe', 'cap*')
      const third = await subscribed(gw.client, 'subscribe', 'capped')
      expect(third.confirmations).toEqual([])
      expect(third.errors.map((e) => e.message)).toEqual([
        expect.stringContaining(
          'ERR too many subscribers: this gateway serves at most 2 at once (GATEWAY_MAX_SUBSCRIBERS)',
        ),
      ])
      const raw = await fetch(`${gw.running.url}/subscribe/capped`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      expect(raw.status).toBe(503)
      expect(await raw.json()).toEqual({
        error:
          'ERR too many subscribers: this gateway serves at most 2 at once (GATEWAY_MAX_SUBSCRIBERS)',
      })
      expect(gw.gateway.subscribers()).toBe(2)
      expect(await pubsubConnections([server])).toBe(2)

      await first.sub.unsubscribe()
      await until(() => gw.gateway.subscribers() === 1, 'a place freed')
      const again = await subscribed(gw.client, 'subscribe', 'capped')
      expect(again.confirmations).toEqual([1])
      expect(await gw.client.publish('capped', { hi: 1 })).toBe(2)
      await until(() => again.messages.length === 1 && second.messages.length === 1, 'delivered')
      await Promise.all([second.sub.unsubscribe(), again.sub.unsubscribe()])
      await until(async () => (await pubsubConnections([server])) === 0, 'closed')
    } finally {
      await gw.running.stop()
    }
  })

  it('refuses a missing or wrong token with 401 (opening nothing); a read-only token may subscribe but not publish', async () => {
    const gw = await serve(redis)
    try {
      for (const headers of <Record<string, string>[]>[
        {},
        { authorization: 'Bearer wrong-token-0123456789abc' },
        { authorization: TOKEN },
      ]) {
        const res = await fetch(`${gw.running.url}/subscribe/secret`, { method: 'POST', headers })
        expect(res.status).toBe(401)
        expect(await res.json()).toEqual({ error: 'WRONGPASS invalid or missing auth token' })
      }
      // the token as a query parameter is no credential
      const query = await fetch(`${gw.running.url}/psubscribe/*?_token=${TOKEN}`, {
        method: 'POST',
      })
      expect(query.status).toBe(401)
      const wrong = new Upstash({ url: gw.running.url, token: 'wrong-token-0123456789abc' })
      const refused = await subscribed(wrong, 'subscribe', 'secret')
      expect(refused.errors.map((e) => e.message)).toEqual([
        expect.stringContaining('WRONGPASS invalid or missing auth token'),
      ])
      expect(gw.gateway.subscribers()).toBe(0)
      expect(await pubsubConnections([server])).toBe(0)

      const reader = new Upstash({ url: gw.running.url, token: READ_ONLY })
      const listening = await subscribed(reader, 'subscribe', 'for-readers')
      expect(listening.confirmations).toEqual([1])
      await expect(reader.publish('for-readers', 'x')).rejects.toThrow(/NOPERM/)
      expect(await gw.client.publish('for-readers', 'from a writer')).toBe(1)
      await until(() => listening.messages.length === 1, 'delivered to the read-only token')
      expect(listening.messages[0]!.message).toBe('from a writer')
      await listening.sub.unsubscribe()
    } finally {
      await gw.running.stop()
    }
  })

  it('answers 400 for no name, a name with a line break, a denied endpoint, and HEAD (opening nothing)', async () => {
    const gw = await serve(redis)
    const denying = await listen(
      createGateway({ redis, tokens: [TOKEN], denyCommands: ['PSUBSCRIBE'] }),
      { port: 0 },
    )
    const post = (url: string) =>
      fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '[]' })
    try {
      const none = await post(`${gw.running.url}/subscribe`)
      expect(none.status).toBe(400)
      expect(await none.json()).toEqual({
        error: "ERR wrong number of arguments for 'subscribe' command",
      })
      const broken = await post(`${gw.running.url}/subscribe/a%0Adata:%20message,b,c`)
      expect(broken.status).toBe(400)
      expect(await broken.json()).toEqual({
        error: 'ERR a subscribe name with a line break cannot be streamed',
      })
      const denied = await post(`${denying.url}/psubscribe/*`)
      expect(denied.status).toBe(400)
      expect(await denied.json()).toEqual({
        error: "ERR 'psubscribe' is not allowed through the gateway",
      })
      // HEAD would run the GET handler and drop the body: a stream nobody reads or cancels
      for (let i = 0; i < 3; i++) {
        const head = await fetch(`${gw.running.url}/subscribe/headless`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${TOKEN}` },
        })
        expect(head.status).toBe(400)
      }
      expect(gw.gateway.subscribers()).toBe(0)
      expect(await pubsubConnections([server])).toBe(0)
    } finally {
      await gw.running.stop()
      await denying.stop()
    }
  })

  it("as the README's ACL user: Redis refuses subscriptions (400 NOPERM) until the pub/sub additions are granted", async () => {
    const acl = (...rules: string[]) => server.cli('ACL', 'SETUSER', 'gw-sub', ...rules)
    await acl('reset')
    // the README's line
    await acl(
      'on',
      '>gw-sub-password-0123',
      '~sess:*',
      '+@read',
      '+@write',
      '+@scripting',
      '+ping',
      '+info',
      '-@dangerous',
      '-select',
      '-migrate',
      '-keys',
    )
    const url = `redis://gw-sub:gw-sub-password-0123@${server.host}:${server.port}`
    const client = connectRedis({ url, stringNumbers: true, logger: () => {} })
    const gw = await serve(client)
    try {
      const refused = await fetch(`${gw.running.url}/subscribe/sess:events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      expect(refused.status).toBe(400)
      expect(((await refused.json()) as { error: string }).error).toMatch(/^NOPERM/)
      expect(gw.gateway.subscribers()).toBe(0)
      // the README's additions for subscriptions
      await acl('+subscribe', '+psubscribe', '+publish', '&*')
      const r = await subscribed(gw.client, 'subscribe', 'sess:events')
      expect(r.confirmations).toEqual([1])
      expect(await gw.client.publish('sess:events', { ok: true })).toBe(1)
      await until(() => r.messages.length === 1, 'delivered')
      await r.sub.unsubscribe()
      await until(() => gw.gateway.subscribers() === 0, 'closed')
    } finally {
      await gw.running.stop()
      client.disconnect()
    }
  })

  it('each heartbeat gives every stream a comment (ignored by the client) and its connection a PING', async () => {
    const subscriptions = createSubscriptions({
      redis,
      auth: createAuthenticator({ tokens: [TOKEN] }),
      maxSubscribers: 1,
      timeoutMs: 2000,
      limits: { maxBodyBytes: 1024, maxArrayLength: 10 },
      heartbeatMs: 50,
    })
    const app = new Hono()
    app.on(['GET', 'POST'], '/:verb/*', subscriptions.route)
    const close = async () => subscriptions.close()
    const running = await listen({ app, subscribers: subscriptions.count, close }, { port: 0 })
    try {
      const res = await fetch(`${running.url}/subscribe/beat`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      const reader = res.body!.getReader()
      let text = ''
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += new TextDecoder().decode(chunk.value)
        if (text.split(': keep-alive\n\n').length > 3) break
      }
      expect(text.replaceAll(': keep-alive\n\n', '')).toBe('data: subscribe,beat,1\n\n')
      await until(
        async () => (await server.cli('CLIENT', 'LIST', 'TYPE', 'pubsub')).includes('cmd=ping'),
        'the subscriber connection pinged',
      )
      await reader.cancel()
      await until(() => subscriptions.count() === 0, 'closed')
    } finally {
      await running.stop()
    }
  })

  it('several channels in one path: one confirmation each, counted as Redis counts them', async () => {
    const gw = await serve(redis)
    try {
      const res = await fetch(`${gw.running.url}/subscribe/one/two/one`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/event-stream')
      const reader = res.body!.getReader()
      let text = ''
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += new TextDecoder().decode(chunk.value)
        if (text.split('\n\n').length === 4) break
      }
      expect(text).toBe(
        'data: subscribe,one,1\n\ndata: subscribe,two,2\n\ndata: subscribe,one,2\n\n',
      )
      await reader.cancel()
      await until(() => gw.gateway.subscribers() === 0, 'closed')
    } finally {
      await gw.running.stop()
    }
  })

  it('stopping the gateway ends every stream with its unsubscribe events and closes their connections', async () => {
    const gw = await serve(redis)
    const a = await subscribed(gw.client, 'subscribe', 'shutdown')
    const b = await subscribed(gw.client, 'psubscribe', 'shut*')
    expect(await pubsubConnections([server])).toBe(2)
    await gw.running.stop()
    await until(() => a.ends.length === 1 && b.ends.length === 1, 'unsubscribe events')
    expect(a.ends).toEqual([0])
    expect(b.ends).toEqual([0])
    expect(gw.gateway.subscribers()).toBe(0)
    await until(async () => (await pubsubConnections([server])) === 0, 'connections closed')
    expect(await gw.sockets()).toBe(0)
  })

  it('a restarted Redis: the stream stays open, subscribes again, and gets what is published after', async () => {
    const own = await startRedis()
    const client = connectRedis({ url: own.url, stringNumbers: true, logger: () => {} })
    const gw = await serve(client)
    try {
      const r = await subscribed(gw.client, 'subscribe', 'survivor')
      await own.stop()
      await own.start()
      await until(() => r.confirmations.length === 2, 'subscribed again')
      expect(r.confirmations).toEqual([1, 1])
      expect(await pubsubConnections([own])).toBe(1)
      // the shared connection may still be reconnecting: 503 until it is back
      const publish = () => gw.client.publish('survivor', 'after').catch(() => 0)
      await until(async () => (await publish()) === 1, 'published')
      await until(() => r.messages.length === 1, 'delivered')
      expect(r.messages[0]!.message).toBe('after')
      await r.sub.unsubscribe()
      await until(async () => (await pubsubConnections([own])) === 0, 'closed')
    } finally {
      await gw.running.stop()
      client.disconnect()
    }
  })
})
