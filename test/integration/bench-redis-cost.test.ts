import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  parseCommandStats,
  sentPerRequest,
  totalCalls,
  usecOfRequests,
} from '../../bench/redis-cost.js'
import { startRedis, stopAll } from '../helpers/redis.js'

/** The bench's Redis time per request, against what a real server reports. */
describe('bench: Redis server time per request', () => {
  let raw: Redis
  beforeAll(async () => {
    const server = await startRedis()
    raw = new Redis({ port: server.port, host: server.host })
  })
  afterAll(async () => {
    raw.disconnect()
    await stopAll()
  })

  it("counts a script's commands once: in the script's entry, not again under their names", async () => {
    await raw.call('CONFIG', 'RESETSTAT')
    const requests = 20
    for (let i = 0; i < requests; i++) {
      await raw.eval("for i = 1, 500 do redis.call('SET', KEYS[1], i) end return 1", 1, 'k')
      await raw.set('plain', String(i)) // sent by the client: its time counts in full
    }
    const stats = parseCommandStats(String(await raw.call('INFO', 'commandstats')))
    const evalStat = stats.get('eval')!
    const setStat = stats.get('set')!
    expect(evalStat.calls).toBe(requests)
    expect(setStat.calls).toBe(requests * 501)
    // the premise: the script's entry includes the time of the SETs it ran
    const nestedSetUsec = setStat.usec * (500 / 501)
    expect(evalStat.usec).toBeGreaterThan(nestedSetUsec)

    const wire = Array.from({ length: requests }, () => ['eval <script>', 'set plain']).flat()
    const sent = sentPerRequest(wire, requests)
    expect(Object.fromEntries(sent)).toEqual({ eval: 1, set: 1 })
    const usec = usecOfRequests(stats, sent, requests)
    expect(usec).toBeCloseTo(evalStat.usec + setStat.usec / 501, 6)
    // summing every entry would have counted the 500 SETs of each script a second time
    const everyEntry = [...stats.values()].reduce((n, s) => n + s.usec, 0)
    expect(everyEntry - usec).toBeCloseTo(nestedSetUsec, 6)
    expect(totalCalls(stats)).toBe(requests * 502) // calls: a script counts itself and its commands
  })

  it("leaves out the bench's own INFO, CONFIG RESETSTAT and PING, and commands nobody sent", async () => {
    await raw.call('CONFIG', 'RESETSTAT')
    await raw.ping()
    await raw.call('INFO', 'server')
    await raw.get('other-client')
    const stats = parseCommandStats(String(await raw.call('INFO', 'commandstats')))
    expect([...stats.keys()]).toEqual(['get'])
    expect(usecOfRequests(stats, new Map(), 1)).toBe(0)
  })
})
