import { Redis } from 'ioredis'
import type { RedisServer } from './redis.js'

/**
 * Runs `fn` and returns the commands the server received meanwhile, as MONITOR reports them,
 * without the commands run inside scripts (`[0 lua]`) and the ECHO markers that fence the window,
 * and without the clients' housekeeping: CLUSTER and INFO, and the ROLE the gateway sends in the
 * same write behind a request (its sync token: no round trip) unless `options.role`.
 */
export async function onTheWire(
  servers: Pick<RedisServer, 'host' | 'port'>[],
  fn: () => Promise<unknown>,
  options: { role?: boolean } = {},
): Promise<string[]> {
  const hidden = new Set(['cluster', 'info', ...(options.role ? [] : ['role'])])
  const seen: string[] = []
  const marks = new Map<string, number>()
  const monitors = await Promise.all(
    servers.map(async (s) => {
      const base = new Redis({ port: s.port, host: s.host, lazyConnect: true })
      const mon = await base.monitor()
      mon.on('monitor', (_time: string, args: string[], source: string) => {
        const name = String(args[0]).toLowerCase()
        if (name === 'echo') marks.set(String(args[1]), (marks.get(String(args[1])) ?? 0) + 1)
        else if (source !== 'lua' && !hidden.has(name))
          seen.push([name, ...args.slice(1, 2)].join(' '))
      })
      return { base, mon, probe: new Redis({ port: s.port, host: s.host }) }
    }),
  )
  const fence = async (mark: string) => {
    await Promise.all(monitors.map((m) => m.probe.echo(mark)))
    const until = Date.now() + 5000
    while ((marks.get(mark) ?? 0) < monitors.length && Date.now() < until)
      await new Promise((r) => setTimeout(r, 5))
  }
  try {
    await fence('start')
    seen.length = 0
    await fn()
    await fence('end')
    return [...seen]
  } finally {
    for (const m of monitors) {
      m.mon.disconnect()
      m.probe.disconnect()
      m.base.disconnect()
    }
  }
}
