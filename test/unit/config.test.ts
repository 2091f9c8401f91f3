import { afterEach, describe, expect, it } from 'vitest'
import { nodeDemoConfig, workerDemoConfig } from '../../demo/config.js'
import { gatewayConfig, gatewaySettings } from '../../src/config/gateway.js'
import { redisOptionsFrom, redisSettingsFromEnv } from '../../src/config/redis.js'
import { connectionOptions } from '../../src/ops/connect.js'

describe('Redis settings: one parser for the environment and the CLI flags', () => {
  const saved = { ...process.env }
  afterEach(() => {
    process.env = { ...saved }
  })

  it('names the setting a bad value came from, never the value', () => {
    const env = redisSettingsFromEnv({ REDIS_URL: 'http://user:secret@x', REDIS_PASSWORD: ' p ' })
    expect(env.password).toEqual({ value: ' p ', name: 'REDIS_PASSWORD' })
    expect(() => redisOptionsFrom(env)).toThrow(/^REDIS_URL is malformed/)
    expect(() => redisOptionsFrom(env)).not.toThrow(/secret/)
    const flag = { cluster: { value: 'a:1,b', name: '--cluster' } }
    expect(() => redisOptionsFrom(flag)).toThrow(/^--cluster must be a comma-separated/)
  })

  it('a topology flag replaces the environment one; the rest of the environment still counts', () => {
    process.env.REDIS_URL = 'redis://from-env:6379'
    process.env.REDIS_USERNAME = 'ops'
    process.env.REDIS_SENTINEL_NAME = 'env-name'
    const options = connectionOptions({
      sentinels: 's1:26379',
      sentinelName: 'flag-name',
      prefix: 'sess:',
    })
    expect(options).toMatchObject({
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'flag-name',
      username: 'ops',
    })
    expect(options.url).toBeUndefined()
    expect(() => connectionOptions({ cluster: 'nope', prefix: 'sess:' })).toThrow(/--cluster/)
    // without a flag, the environment decides
    expect(connectionOptions({ prefix: 'sess:' }).url).toBe('redis://from-env:6379')
  })
})

describe('gateway settings: the environment and the CLI flags through one parser', () => {
  const env = {
    REDIS_SENTINELS: 's1:26379',
    GATEWAY_TOKENS: 'a'.repeat(20) + ', ' + 'b'.repeat(20),
    GATEWAY_PORT: '9000',
    GATEWAY_MAX_COUNT: '50',
  }

  it('reads every variable, with the documented defaults', () => {
    const config = gatewayConfig(gatewaySettings(env))
    expect(config).toEqual({
      redis: { sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster' },
      tokens: ['a'.repeat(20), 'b'.repeat(20)],
      readOnlyTokens: [],
      host: '127.0.0.1',
      port: 9000,
      timeoutMs: 5000,
      maxBodyBytes: 1048576,
      scriptPolicy: 'registered',
      scriptFiles: [],
      maxCount: 50,
      maxReplyBytes: 8388608,
      maxConnections: 10000,
      maxSubscribers: 1000,
      allowCommands: [],
      readFrom: 'primary',
    })
  })

  it('GATEWAY_MAX_SUBSCRIBERS: 0 turns subscriptions off, --max-subscribers wins, errors name the source', () => {
    expect(gatewayConfig(gatewaySettings({ ...env, GATEWAY_MAX_SUBSCRIBERS: '0' }))).toMatchObject({
      maxSubscribers: 0,
    })
    const flag = {
      gateway: { maxSubscribers: { value: '25', name: '--max-subscribers' } },
      redis: {},
    }
    const flagged = gatewaySettings({ ...env, GATEWAY_MAX_SUBSCRIBERS: '7' }, flag)
    expect(gatewayConfig(flagged).maxSubscribers).toBe(25)
    expect(() => gatewayConfig(gatewaySettings({ ...env, GATEWAY_MAX_SUBSCRIBERS: '-1' }))).toThrow(
      'GATEWAY_MAX_SUBSCRIBERS must be an integer at least 0, got "-1"',
    )
    const bad = {
      gateway: { maxSubscribers: { value: 'many', name: '--max-subscribers' } },
      redis: {},
    }
    expect(() => gatewayConfig(gatewaySettings(env, bad))).toThrow(/^--max-subscribers must be/)
  })

  it('GATEWAY_ALLOW_COMMANDS and --allow-commands: a list, checked at once, naming what was typed', () => {
    const open = gatewayConfig(
      gatewaySettings({ ...env, GATEWAY_ALLOW_COMMANDS: 'FLUSHDB, memory doctor,,' }),
    )
    expect(open.allowCommands).toEqual(['FLUSHDB', 'memory doctor'])
    expect(() =>
      gatewayConfig(gatewaySettings({ ...env, GATEWAY_ALLOW_COMMANDS: 'FLUSHDB,CONFIG SET' })),
    ).toThrow(/^GATEWAY_ALLOW_COMMANDS cannot enable CONFIG SET: it administers the whole server/)
    const flag = {
      gateway: { allowCommands: { value: 'DEBUG', name: '--allow-commands' } },
      redis: {},
    }
    expect(() => gatewayConfig(gatewaySettings(env, flag))).toThrow(
      /^--allow-commands cannot enable DEBUG: /,
    )
    // loading code is refused under the default script policy, allowed under `any`
    const load = { ...env, GATEWAY_ALLOW_COMMANDS: 'FUNCTION LOAD' }
    expect(() => gatewayConfig(gatewaySettings(load))).toThrow(
      /^GATEWAY_ALLOW_COMMANDS cannot enable FUNCTION LOAD: it changes the code stored in Redis/,
    )
    expect(
      gatewayConfig(gatewaySettings({ ...load, GATEWAY_SCRIPTS: 'any' })).allowCommands,
    ).toEqual(['FUNCTION LOAD'])
  })

  it('a flag wins over its variable and its error names the flag', () => {
    const flags = {
      gateway: { port: { value: '9100', name: '--port' } },
      redis: { url: { value: 'redis://h:1', name: '--redis-url' } },
    }
    const config = gatewayConfig(gatewaySettings(env, flags))
    expect(config.port).toBe(9100)
    // a flag that was not given leaves its variable alone
    const unset = { gateway: { port: undefined, maxCount: undefined }, redis: { url: undefined } }
    expect(gatewayConfig(gatewaySettings(env, unset))).toMatchObject({ port: 9000, maxCount: 50 })
    // --redis-url replaces REDIS_SENTINELS instead of clashing with it
    expect(config.redis).toEqual({ url: 'redis://h:1' })
    const bad = { gateway: { port: { value: '70000', name: '--port' } }, redis: {} }
    expect(() => gatewayConfig(gatewaySettings(env, bad))).toThrow(
      '--port must be an integer between 1 and 65535, got "70000"',
    )
    expect(() => gatewayConfig(gatewaySettings({ ...env, GATEWAY_PORT: 'x' }))).toThrow(
      /^GATEWAY_PORT must be/,
    )
  })

  it('names what is missing or not one of the choices', () => {
    expect(() => gatewayConfig(gatewaySettings({ GATEWAY_TOKENS: 'x'.repeat(20) }))).toThrow(
      /^no Redis target/,
    )
    expect(() => gatewayConfig(gatewaySettings({ REDIS_URL: 'redis://h:1' }))).toThrow(
      /^GATEWAY_TOKENS is required/,
    )
    expect(() => gatewayConfig(gatewaySettings({ ...env, GATEWAY_SCRIPTS: 'some' }))).toThrow(
      'GATEWAY_SCRIPTS must be "registered" or "any", got "some"',
    )
  })
})

describe('demo settings: one module reads the demo environment', () => {
  const quiet = () => {}

  it('Node: defaults, each variable, and errors naming the variable', () => {
    const config = nodeDemoConfig({}, quiet)
    expect(config).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      trustProxy: false,
      failOpen: false,
      store: { kind: 'memory' },
    })
    expect(config.tls).toBeUndefined()
    expect(config.metricsToken).toBeUndefined()
    const full = nodeDemoConfig(
      {
        PORT: '0',
        HOST: '0.0.0.0',
        TLS_CERT: 'c.pem',
        TLS_KEY: 'k.pem',
        TRUST_PROXY: '1',
        SESSION_FAIL_OPEN: '1',
        METRICS_TOKEN: 'm'.repeat(20),
        REDIS_URL: 'redis://h:1',
        REDIS_WAIT_REPLICAS: '1',
      },
      quiet,
    )
    expect(full).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      tls: { certPath: 'c.pem', keyPath: 'k.pem' },
      trustProxy: true,
      failOpen: true,
      metricsToken: 'm'.repeat(20),
      store: {
        kind: 'redis',
        options: { url: 'redis://h:1' },
        durability: { replicas: 1, timeoutMs: 500 },
      },
    })
    expect(() => nodeDemoConfig({ PORT: '65536' }, quiet)).toThrow(/^PORT must be an integer/)
    expect(() => nodeDemoConfig({ TRUST_PROXY: 'maybe' }, quiet)).toThrow(
      /^TRUST_PROXY must be 1 or 0/,
    )
    expect(() => nodeDemoConfig({ TLS_KEY: 'k.pem' }, quiet)).toThrow(
      /Set both TLS_CERT and TLS_KEY/,
    )
  })

  it('Worker: the Upstash pair, both or neither, and LOG_REQUESTS', () => {
    const keys = `k1:${'A'.repeat(43)}`
    expect(workerDemoConfig({ SESSION_KEYS: keys })).toEqual({
      keys: [{ kid: 'k1', secret: 'A'.repeat(43) }],
      logRequests: true,
    })
    expect(
      workerDemoConfig({
        SESSION_KEYS: keys,
        UPSTASH_REDIS_REST_URL: 'https://u',
        UPSTASH_REDIS_REST_TOKEN: 't',
        LOG_REQUESTS: '0',
      }),
    ).toMatchObject({ upstash: { url: 'https://u', token: 't' }, logRequests: false })
    expect(() => workerDemoConfig({ SESSION_KEYS: keys, UPSTASH_REDIS_REST_TOKEN: 't' })).toThrow(
      /Set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN/,
    )
  })
})
