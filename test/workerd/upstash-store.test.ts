import { inject } from 'vitest'
import { upstashStore } from '../../src/store/upstash.js'
import { testStore } from '../conformance.js'

/** The Upstash store inside workerd, fetching the gateway (real Redis) on 127.0.0.1. */
testStore('upstash in workerd via gateway', async () => ({
  store: upstashStore({ url: inject('gatewayUrl'), token: inject('gatewayToken') }),
}))
