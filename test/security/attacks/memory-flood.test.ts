/**
 * An anonymous flood against the memory store, the default of `npm start` (security issue,
 * finding 6): 10,000 cookie-less `POST /api/counter` used to push the signed-in user out of the
 * store's 10,000-entry bound (oldest first, whoever it was).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../../../demo/app.js'
import { memoryStore } from '../../../src/store/memory.js'
import { HttpClient, serveHttp, type Served } from '../../helpers/load.js'
import { KEY_A } from '../../helpers/session-app.js'
import { burst, tally } from './harness.js'

let served: Served
beforeAll(async () => {
  const app = createDemoApp({ store: memoryStore(), keys: [KEY_A], insecureLocalhost: true })
  served = await serveHttp(app.fetch)
})
afterAll(() => served.close())

/** `total` requests, `parallel` at a time, each from a new cookie-less client. */
async function flood(total: number, parallel: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (let done = 0; done < total; done += parallel) {
    const outcomes = await burst(Math.min(parallel, total - done), () =>
      new HttpClient(served, 10_000).request('POST', '/api/counter'),
    )
    for (const [status, n] of Object.entries(tally(outcomes))) out[status] = (out[status] ?? 0) + n
  }
  return out
}

describe('attack: an anonymous flood of the memory store', () => {
  it('10,200 cookie-less writes leave a signed-in user signed in, with her data', async () => {
    const alice = new HttpClient(served, 10_000)
    expect((await alice.login()).status).toBe(303)
    expect((await alice.request('POST', '/api/counter')).body).toEqual({ count: 1 })
    // past the default bound of 10,000 sessions
    expect(await flood(10_200, 50)).toEqual({ '200': 10_200 })
    expect((await alice.request('GET', '/api/me')).status).toBe(200)
    expect((await alice.request('POST', '/api/counter')).body).toEqual({ count: 2 })
  }, 120_000)
})
