import type { LuaScript } from './prelude.js'
import { runScript, type ScriptExec } from './runner.js'

/** One script invocation's keys and arguments. */
export interface ScriptArgs {
  keys: string[]
  args: string[]
}

/**
 * One Lua-backed store operation in one place: its script, how its keys and arguments are laid
 * out, and how its reply reads (the shape of `@upstash/redis`'s `pkg/commands/*`), so nobody
 * keeps positions in sync across files.
 */
export interface Operation<Input extends unknown[], Output> {
  readonly script: LuaScript
  /** The call creates or deletes sessions: a store with a durability setting WAITs after it. */
  readonly durable?: boolean
  layout(prefix: string, ...input: Input): ScriptArgs
  decode(reply: unknown, ...input: Input): Output
}

/** Runs an operation: one EVALSHA (EVAL after a NOSCRIPT), its reply decoded. */
export async function run<Input extends unknown[], Output>(
  exec: ScriptExec,
  prefix: string,
  op: Operation<Input, Output>,
  ...input: Input
): Promise<Output> {
  const { keys, args } = op.layout(prefix, ...input)
  const reply = await runScript(exec, op.script, keys, args, op.durable ?? false)
  return op.decode(reply, ...input)
}
