/**
 * Stops a script (or a Redis 7 function: FUNCTION KILL) still running at a request's deadline, so that Redis serves everyone again
 * within one deadline instead of answering BUSY until someone intervenes. `SCRIPT KILL` goes
 * over a connection of its own (the shared one waits for the script's reply), one per node,
 * opened when a request first runs a script (before it is sent: a connection opened while
 * Redis is busy could neither authenticate nor pass the ready check) and kept. A script that
 * already wrote cannot be killed (Redis answers UNKILLABLE): that is reported, not hidden.
 */
import type { Cluster, Redis } from 'ioredis'
import { isCluster } from './execute.js'

export interface ScriptKiller {
  /** Opens the side connections if they are not open yet (a request is about to run a script). */
  prepare(): void
  /**
   * Sends SCRIPT KILL (FUNCTION KILL for a function) to every node that may run it; resolves
   * with what each said.
   */
  kill(kind?: 'script' | 'function'): Promise<string[]>
  close(): void
}

export function scriptKiller(redis: Redis | Cluster): ScriptKiller {
  const side = new Map<string, Redis>()
  const masters = () => (isCluster(redis) ? redis.nodes('master') : [redis])
  const connectionTo = (node: Redis): Redis => {
    const { host = '127.0.0.1', port = 6379 } = node.options
    const name = `${host}:${port}`
    let conn = side.get(name)
    if (!conn) {
      conn = node.duplicate({
        lazyConnect: false,
        enableReadyCheck: false,
        maxRetriesPerRequest: 1,
      })
      conn.on('error', () => {}) // reported through kill()'s answers
      side.set(name, conn)
    }
    return conn
  }
  return {
    prepare() {
      for (const node of masters()) connectionTo(node)
    },
    async kill(kind = 'script') {
      return Promise.all(
        masters().map((node) =>
          connectionTo(node)
            .call(kind === 'script' ? 'SCRIPT' : 'FUNCTION', 'KILL')
            .then(
              (ok) => String(ok),
              (err: Error) => err.message.split(' ', 1)[0] ?? 'ERR',
            ),
        ),
      )
    },
    close() {
      for (const conn of side.values()) conn.disconnect()
      side.clear()
    },
  }
}
