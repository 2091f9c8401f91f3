/**
 * Which commands of a newer Redis (`NEWER_COMMANDS`: EVAL_RO, LMPOP, FUNCTION, ...) the
 * connected server knows, so that the gateway accepts them there and refuses them with a clear
 * error elsewhere. Asked with `COMMAND INFO` when the gateway starts and each time the client
 * (re)connects (a failover may land on another version), never blocking the start: while the
 * answer is unknown (Redis down at start), the first request that needs it asks again, within
 * its own deadline, and gets a 503 if Redis cannot say. A server that refuses `COMMAND` (an ACL
 * user without it) leaves the answer unknown: the commands then go to Redis, which answers.
 */
import { Command, ReplyError } from '../store/ioredis-package.js'
import type { Cluster, Redis } from 'ioredis'
import { withTimeout } from '../util/timeout.js'
import { NEWER_COMMANDS, type GatewayCommand } from './commands.js'
import { ExecutionProblem } from './execute.js'

export interface ServerCommands {
  /** Whether the server knows a command of `NEWER_COMMANDS`; undefined until learned. */
  knows(name: string): boolean | undefined
  /**
   * Learns the answer when one of `commands` needs it and it is not known yet (undefined, not a
   * promise, when there is nothing to wait for); rejects with a 503 `ExecutionProblem` when
   * Redis cannot answer within `timeoutMs`.
   */
  learn(commands: readonly GatewayCommand[]): Promise<void> | undefined
  /** Stops listening to the client's reconnections. */
  close(): void
}

const NEWER = new Set(NEWER_COMMANDS)

export function serverCommands(redis: Redis | Cluster, timeoutMs: number): ServerCommands {
  let known: ReadonlySet<string> | undefined
  /** Redis answered COMMAND INFO with an error (e.g. NOPERM): asking again per request is useless. */
  let refused = false
  let asking: Promise<void> | undefined

  const ask = (): Promise<void> =>
    (asking ??= withTimeout(
      redis.sendCommand(new Command('COMMAND', ['INFO', ...NEWER_COMMANDS])) as Promise<unknown>,
      timeoutMs,
      () => new Error(`no answer to COMMAND INFO within ${timeoutMs} ms`),
    )
      .then((reply) => {
        // one entry per name: null when the server does not know it (or it was renamed away)
        const entries = Array.isArray(reply) ? reply : []
        known = new Set(NEWER_COMMANDS.filter((_, i) => Array.isArray(entries[i])))
        refused = false
      })
      .catch((error: unknown) => {
        if (!(error instanceof ReplyError)) throw error
        refused = true
      })
      .finally(() => {
        asking = undefined
      }))
  const refresh = () => void ask().catch(() => {})
  refresh()
  redis.on('ready', refresh)

  return {
    knows: (name) => known?.has(name),
    learn(commands) {
      if (known || refused) return undefined
      const needed = commands.find((c) => NEWER.has(c.name))
      if (!needed) return undefined
      return ask().catch((error: Error) => {
        throw new ExecutionProblem(
          503,
          `ERR Redis is unavailable: cannot tell whether it knows '${needed.name.toLowerCase()}' (${error.message})`,
        )
      })
    },
    close() {
      redis.off('ready', refresh)
    },
  }
}
