/**
 * The Node demo's store from the environment (`npm start`): UPSTASH_REDIS_REST_URL/TOKEN (the
 * same variables as the Worker) select the Upstash store, REDIS_URL the ioredis store, nothing
 * the memory store; half a configuration is a clear error.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { storeFromEnv } from '../../demo/node/store-from-env.js'
import { demo } from '../helpers/demo.js'
import { startGateway } from '../helpers/gateway.js'
import { startRedis, stopAll } from '../helpers/redis.js'
import { CookieJar } from '../helpers/session-app.js'

afterAll(stopAll)

describe('storeFromEnv', () => {
  it('UPSTASH_REDIS_REST_URL + TOKEN: the Upstash store, working end to end through the gateway', async () => {
    const server = await startRedis()
    const gateway = await startGateway({ url: server.url })
    try {
      const { store, name } = storeFromEnv({
        UPSTASH_REDIS_REST_URL: gateway.url,
        UPSTASH_REDIS_REST_TOKEN: gateway.token,
        REDIS_URL: 'redis://127.0.0.1:1', // Upstash wins, as on the Worker
      })
      expect(name).toBe(`upstash ${gateway.url}`)
      expect((await store.ping()).details).toMatchObject({ mode: 'upstash' })
      const d = demo(store)
      const jar = new CookieJar()
      const requests = await gateway.count(() => d.login(jar))
      expect(requests).toBeGreaterThanOrEqual(1)
      expect(await (await d.call(jar, 'GET', '/api/me')).json()).toEqual({
        user: 'alice',
        roles: ['user'],
      })
    } finally {
      await gateway.close()
    }
  })

  it('REDIS_URL: the ioredis store; nothing: the memory store', async () => {
    const server = await startRedis()
    const redis = storeFromEnv({ REDIS_URL: server.url, REDIS_WAIT_REPLICAS: '0' })
    expect(redis.name).toBe(server.url)
    expect((await redis.store.ping()).details).toMatchObject({ mode: 'standalone', role: 'master' })
    await redis.store.close?.()
    const memory = storeFromEnv({})
    expect(memory.name).toBe('memory')
    expect((await memory.store.ping()).details).toMatchObject({ store: 'memory' })
  })

  it('half a configuration or a bad value is a clear error', () => {
    expect(() => storeFromEnv({ UPSTASH_REDIS_REST_URL: 'https://x.upstash.io' })).toThrow(
      /both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN/,
    )
    expect(() =>
      storeFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_WAIT_REPLICAS: 'two' }),
    ).toThrow(/REDIS_WAIT_REPLICAS/)
    expect(() => storeFromEnv({ REDIS_CLUSTER_NODES: 'not a node list' })).toThrow(
      /REDIS_CLUSTER_NODES/,
    )
  })
})
