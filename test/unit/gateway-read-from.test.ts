import { describe, expect, it } from 'vitest'
import { gatewayConfig, gatewaySettings, GATEWAY_HELP } from '../../src/config/gateway.js'

describe('GATEWAY_READ_FROM / --read-from', () => {
  const tokens = { GATEWAY_TOKENS: 'a'.repeat(20) }
  const sentinel = { ...tokens, REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'm' }

  it('is primary by default, replicas on a Sentinel target', () => {
    expect(gatewayConfig(gatewaySettings(sentinel)).readFrom).toBe('primary')
    const replicas = gatewayConfig(gatewaySettings({ ...sentinel, GATEWAY_READ_FROM: 'replicas' }))
    expect(replicas).toMatchObject({ readFrom: 'replicas', redis: { name: 'm' } })
    const flag = { gateway: { readFrom: { value: 'replicas', name: '--read-from' } }, redis: {} }
    expect(gatewayConfig(gatewaySettings(sentinel, flag)).readFrom).toBe('replicas')
    expect(GATEWAY_HELP.join('\n')).toContain('GATEWAY_READ_FROM (primary | replicas')
  })

  it('names the variable or flag of a bad value, and refuses replicas without Sentinel', () => {
    expect(() =>
      gatewayConfig(gatewaySettings({ ...sentinel, GATEWAY_READ_FROM: 'nearest' })),
    ).toThrow('GATEWAY_READ_FROM must be "primary" or "replicas", got "nearest"')
    const url = { ...tokens, REDIS_URL: 'redis://127.0.0.1:6379' }
    const flag = { gateway: { readFrom: { value: 'replicas', name: '--read-from' } }, redis: {} }
    expect(() => gatewayConfig(gatewaySettings(url, flag))).toThrow(
      /^--read-from=replicas needs a Sentinel deployment \(REDIS_SENTINELS\)/,
    )
    const cluster = { ...tokens, REDIS_CLUSTER_NODES: 'a:1', GATEWAY_READ_FROM: 'replicas' }
    expect(() => gatewayConfig(gatewaySettings(cluster))).toThrow(
      /^GATEWAY_READ_FROM=replicas needs/,
    )
  })
})
