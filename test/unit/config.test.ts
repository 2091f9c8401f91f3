import { afterEach, describe, expect, it } from 'vitest'
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
