/**
 * Runs validated commands on ioredis (standalone, Sentinel or Cluster) and classifies failures.
 *
 * - Replies are read as Buffers (reply encoding null), so bytes reach the encoder unchanged.
 * - A pipeline issues every command at once, in order, on the client: on one connection Redis
 *   runs them in that order; on a Cluster, commands on the same slot keep their order.
 * - A transaction is ioredis `multi()`: MULTI, the commands and EXEC are written to the socket
 *   in one write, and ioredis drops the fragments of a transaction cut by a lost connection, so
 *   transactions sharing the connection never interleave. On a Cluster every key of a
 *   transaction must hash to one slot (checked before sending).
 */
import { keySlot } from '../store/redis/slot.js'
import type { Cluster, Redis } from 'ioredis'
import { Command, ReplyError } from '../store/ioredis-package.js'
import type { GatewayCommand } from './commands.js'

/** Whether the client is a Cluster (by flag, not `instanceof`: two ioredis copies may coexist). */
export function isCluster(redis: Redis | Cluster): redis is Cluster {
  return redis.isCluster === true
}

/** How one command ended. */
export type Outcome =
  { ok: true; value: unknown } | { ok: false; error: string; status: 400 | 503 | 504 }

/** A failure of a whole request after validation (HTTP status and Upstash-style error text). */
export class ExecutionProblem extends Error {
  constructor(
    readonly status: 400 | 503 | 504,
    message: string,
  ) {
    super(message)
    this.name = 'ExecutionProblem'
  }
}

/** Redis' own error replies pass through unchanged (400); anything else means Redis is unreachable. */
export function classify(error: unknown): { status: 400 | 503 | 504; error: string } {
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof ReplyError) return { status: 400, error: message }
  if (/timed out/i.test(message))
    return {
      status: 504,
      error: `ERR Redis did not answer in time (${message}); the command may still have run`,
    }
  return { status: 503, error: `ERR Redis is unavailable (${message})` }
}

function settle(promise: Promise<unknown>): Promise<Outcome> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, ...classify(error) }),
  )
}

/**
 * What `callBuffer()` does, without it: with `enableAutoPipelining` (a client the caller made,
 * or `connectRedis` on Cluster with `autoPipelining: true`), ioredis 6.0.0's `callBuffer` drops
 * the command name and sends its first argument as the command. Sending the Command ourselves
 * works either way.
 */
function sendBuffer(redis: Redis | Cluster, command: GatewayCommand): Promise<unknown> {
  return redis.sendCommand(
    new Command(command.name, command.args, { replyEncoding: null }),
  ) as Promise<unknown>
}

/**
 * SCRIPT LOAD / SCRIPT EXISTS and the FUNCTION commands that change stored code go to every
 * master of a Cluster, so EVALSHA and FCALL work on any shard.
 */
async function scriptOnAllMasters(cluster: Cluster, command: GatewayCommand): Promise<unknown> {
  const masters = cluster.nodes('master')
  if (masters.length === 0) return sendBuffer(cluster, command)
  const replies = await Promise.all(masters.map((node) => sendBuffer(node, command)))
  if (command.name !== 'SCRIPT' || command.args[0]!.toUpperCase() !== 'EXISTS') return replies[0]
  // EXISTS: a script counts as loaded only when every master has it (`stringNumbers`: '1').
  const lists = replies as unknown[][]
  return lists[0]!.map((_, i) => (lists.every((list) => Number(list[i]) === 1) ? 1 : 0))
}

const ALL_MASTERS = new Set([
  'SCRIPT LOAD',
  'SCRIPT EXISTS',
  'FUNCTION LOAD',
  'FUNCTION DELETE',
  'FUNCTION FLUSH',
])

/** Runs one command. */
export function runCommand(redis: Redis | Cluster, command: GatewayCommand): Promise<Outcome> {
  const sub = command.args[0]?.toUpperCase()
  if (isCluster(redis) && ALL_MASTERS.has(`${command.name} ${sub}`)) {
    return settle(scriptOnAllMasters(redis, command))
  }
  return settle(sendBuffer(redis, command))
}

/** Runs commands without atomicity; one outcome per command, in order. */
export function runPipeline(
  redis: Redis | Cluster,
  commands: GatewayCommand[],
): Promise<Outcome[]> {
  // Issued synchronously, so they are queued (and written) in this order.
  return Promise.all(commands.map((command) => runCommand(redis, command)))
}

/** The keys of a command, as ioredis's command table finds them (EVAL's numkeys included). */
function keysOf(command: GatewayCommand): string[] {
  return new Command(command.name.toLowerCase(), command.args).getKeys().map(String)
}

/**
 * Runs the commands as one MULTI/EXEC. Queue-time errors (wrong arity, ...) abort the whole
 * transaction (400, EXECABORT with the reasons); run-time errors are per-command outcomes.
 */
export async function runTransaction(
  redis: Redis | Cluster,
  commands: GatewayCommand[],
): Promise<Outcome[]> {
  if (isCluster(redis)) {
    const slots = new Set(commands.flatMap(keysOf).map(keySlot))
    if (slots.size > 1) {
      throw new ExecutionProblem(
        400,
        "CROSSSLOT Keys in request don't hash to the same slot (use one {hash tag} for every key of a transaction)",
      )
    }
  }
  const transaction = redis.multi()
  for (const command of commands) transaction.callBuffer(command.name, ...command.args)
  let replies: [Error | null, unknown][] | null
  try {
    replies = await transaction.exec()
  } catch (error) {
    const { status, error: message } = classify(error)
    const reasons =
      (error as { previousErrors?: Error[] }).previousErrors?.map((e) => e.message) ?? []
    throw new ExecutionProblem(
      status,
      reasons.length ? `${message} (${reasons.join('; ')})` : message,
    )
  }
  if (!replies) throw new ExecutionProblem(400, 'EXECABORT Transaction aborted')
  return replies.map(([error, value]) =>
    error ? { ok: false, ...classify(error) } : { ok: true, value },
  )
}
