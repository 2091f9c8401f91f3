/**
 * The Upstash store inside workerd, fetching the gateway (real Redis, started on the Node side
 * by `global-setup.ts`) on 127.0.0.1: the conformance suite with the store's own fetch and with
 * the `@upstash/redis/cloudflare` client, and the timeout bound against an endpoint that never
 * answers.
 */
import { Redis } from '@upstash/redis/cloudflare'
import { describe, expect, inject, it } from 'vitest'
import { StoreError, StoreTimeoutError } from '../../src/errors.js'
import { upstashClientOptions, upstashStore } from '../../src/store/upstash.js'
import { testStore } from '../../src/testing/index.js'

const url = inject('gatewayUrl')
const token = inject('gatewayToken')

// One Redis serves every workerd test file: each suite gets its own prefix (the suite reuses
// fixed user ids).
testStore('upstash in workerd via gateway', async () => ({
  store: upstashStore({ url, token, prefix: 'wf:' }),
}))

testStore('upstash in workerd via gateway, 3+3 Cluster', async () => ({
  store: upstashStore({ url: inject('gatewayClusterUrl'), token, prefix: 'wk:' }),
}))

testStore('upstash in workerd via gateway, @upstash/redis/cloudflare client', async () => ({
  store: upstashStore({
    client: new Redis({ url, token, ...upstashClientOptions() }),
    prefix: 'wc:',
  }),
}))

describe('upstash store in workerd: failures', () => {
  it('runs inside workerd', () => {
    const { navigator } = globalThis as { navigator?: { userAgent?: string } }
    expect(navigator?.userAgent).toBe('Cloudflare-Workers')
  })

  const key = { id: 'w'.repeat(43) }
  const noExtend = { now: Date.now(), extendIfBefore: 0, extendTo: 0 }

  for (const [label, make] of [
    ['fetch', (u: string) => upstashStore({ url: u, token, timeoutMs: 400 })],
    [
      '@upstash/redis client',
      (u: string) =>
        upstashStore({
          client: new Redis({ url: u, token, ...upstashClientOptions(400) }),
          timeoutMs: 400,
        }),
    ],
  ] as const) {
    it(`${label}: an endpoint that never answers rejects within timeoutMs + 300 ms`, async () => {
      const store = make(inject('blackHoleUrl'))
      const started = Date.now()
      const err = await store.load(key, noExtend).catch((e: unknown) => e)
      const took = Date.now() - started
      expect(err).toBeInstanceOf(StoreTimeoutError)
      expect(took).toBeLessThan(400 + 300)
      console.log(`upstash store in workerd (${label}), hanging endpoint: ${took} ms`)
    })
  }

  it('a wrong token is a StoreError without the token in it', async () => {
    const store = upstashStore({ url, token: 'wrong-token-0123456789abcdef' })
    const err = await store.load(key, noExtend).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect(`${(err as Error).message} ${String((err as Error).cause)}`).not.toContain('wrong-token')
  })
})
