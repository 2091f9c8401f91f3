import type { Store } from '../store/types.js'
import { settleWithin } from '../util/timeout.js'

/** What an ioredis client offers for counting keys (standalone/Sentinel or Cluster). */
interface KeyCounter {
  dbsize?: () => Promise<number>
  isCluster?: boolean
  nodes?: (role: 'master') => { dbsize(): Promise<number> }[]
}

/**
 * A cheap sample of active sessions for a store, for the exporters' `activeSessions` option: the
 * memory store's exact count (`ping().details.sessions`), a `keys` detail if the store reports
 * one, else for the ioredis store `DBSIZE` (summed over Cluster masters): every key of the
 * database, so sessions plus per-user indexes and values (and anything else in that DB): an
 * approximation, O(1) in Redis. Resolves to null when the store offers neither, fails, or does
 * not answer within `timeoutMs`.
 *
 * @param store - the session store
 * @param timeoutMs - upper bound of one sample, milliseconds; default 1000
 * @example
 * ```ts
 * prometheusExporter(metrics, { registry, activeSessions: activeSessionsProbe(store) })
 * ```
 */
export function activeSessionsProbe(store: Store, timeoutMs = 1000): () => Promise<number | null> {
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw new Error('activeSessionsProbe: "timeoutMs" must be a positive number of milliseconds')
  const client = (store as { client?: KeyCounter }).client
  const probe = async (): Promise<number | null> => {
    if (client?.isCluster && client.nodes) {
      const counts = await Promise.all(client.nodes('master').map((node) => node.dbsize()))
      return counts.reduce((a, b) => a + b, 0)
    }
    if (client?.dbsize) return client.dbsize()
    const { details } = await store.ping()
    for (const name of ['sessions', 'keys']) {
      const value = details?.[name]
      if (typeof value === 'number') return value
    }
    return null
  }
  return () => settleWithin(probe(), timeoutMs, null)
}
