/**
 * The script runner both Redis stores share: EVALSHA with a fallback to EVAL on NOSCRIPT. Free
 * of Node built-ins (SHA-1 comes from WebCrypto), so the edge store uses it too: a store only
 * supplies a {@link ScriptExec} that sends one EVALSHA or EVAL.
 */
import type { LuaScript } from './prelude.js'

/** One script call as the transport sends it. */
export interface ScriptCall {
  script: LuaScript
  /** SHA-1 of `script.source`, lowercase hex. */
  sha: string
  /** `true`: send EVALSHA sha; `false`: send EVAL source (after a NOSCRIPT). */
  bySha: boolean
  keys: string[]
  args: string[]
  /** The call deletes or creates sessions: a store with a durability setting WAITs after it. */
  durable: boolean
}

/** Sends one EVALSHA or EVAL and resolves with the raw reply (rejects with the raw error). */
export type ScriptExec = (call: ScriptCall) => Promise<unknown>

const shas = new Map<LuaScript, Promise<string>>()
/** The digests already computed, for calls that should not wait even a microtask for them. */
const knownShas = new Map<LuaScript, string>()

/** SHA-1 of a script's source (hex), computed once per process with WebCrypto. */
export function scriptSha(script: LuaScript): Promise<string> {
  let sha = shas.get(script)
  if (!sha) {
    sha = crypto.subtle.digest('SHA-1', new TextEncoder().encode(script.source)).then((buf) => {
      const hex = Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('')
      knownShas.set(script, hex)
      return hex
    })
    shas.set(script, sha)
  }
  return sha
}

/** True for Redis's "NOSCRIPT No matching script" reply, whatever the client wraps it in. */
export function isNoScript(err: unknown): boolean {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : ''
  return /\bNOSCRIPT\b/.test(message)
}

/**
 * Runs a script: EVALSHA first, EVAL when the server's script cache lacks it (restart,
 * failover, SCRIPT FLUSH). One round trip normally, two right after a cache flush.
 */
export async function runScript(
  exec: ScriptExec,
  script: LuaScript,
  keys: string[],
  args: string[],
  durable = false,
): Promise<unknown> {
  const call: ScriptCall = {
    script,
    sha: knownShas.get(script) ?? (await scriptSha(script)),
    bySha: true,
    keys,
    args,
    durable,
  }
  try {
    return await exec(call)
  } catch (err) {
    if (!isNoScript(err)) throw err
    return exec({ ...call, bySha: false })
  }
}
