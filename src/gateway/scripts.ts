/**
 * Which Lua scripts the gateway runs. `EVAL` runs any code inside Redis (it can SELECT another
 * database, FLUSHDB, KEYS, MIGRATE keys away or loop until every client gets BUSY), so an
 * allowlist of commands means nothing while any script is accepted. By default only registered
 * scripts run: this package's session scripts, and those the operator adds. `any` is an
 * explicit opt-in (then connect as a restricted ACL user: see the README).
 *
 * Functions (Redis 7) are code stored in Redis and called by name, with no digest to check:
 * under `registered`, code is never loaded or removed through the gateway (`FUNCTION LOAD`,
 * `DELETE`, `FLUSH`; `RESTORE` never runs at all), and calling what is already loaded
 * (`FCALL`, `FCALL_RO`) is off unless the operator opens it (`commands.ts`).
 */
import { createHash } from 'node:crypto'
import { SCRIPTS } from '../store/redis/scripts.js'
import { FUNCTION_CODE_CHANGES, type GatewayCommand } from './commands.js'

/** `registered`: only scripts whose SHA1 is registered; `any`: every script. */
export type ScriptPolicyMode = 'registered' | 'any'

export interface ScriptPolicyOptions {
  /** Default `registered`. */
  mode?: ScriptPolicyMode | undefined
  /** Sources of scripts to accept besides this package's session scripts. */
  sources?: readonly string[] | undefined
}

export interface ScriptPolicy {
  mode: ScriptPolicyMode
  /** Error text when the command runs or loads a script that is not allowed, else null. */
  check(command: GatewayCommand): string | null
  /**
   * What the command runs: a script (stopped at the deadline with SCRIPT KILL), a function
   * (FUNCTION KILL), or null.
   */
  runs(command: GatewayCommand): 'script' | 'function' | null
}

/** SHA1 of a script's source, lowercase hex: the digest EVALSHA names it by. */
export function scriptDigest(source: string): string {
  return createHash('sha1').update(source, 'utf8').digest('hex')
}

export function createScriptPolicy(options: ScriptPolicyOptions = {}): ScriptPolicy {
  const { mode = 'registered', sources = [] } = options
  if (mode !== 'registered' && mode !== 'any') {
    throw new Error('createGateway: "scriptPolicy" must be "registered" or "any"')
  }
  const registered = new Set(
    [...Object.values(SCRIPTS).map((s) => s.source), ...sources].map(scriptDigest),
  )
  const refuse = (sha: string) =>
    `NOPERM the gateway runs registered scripts only: a script with SHA1 ${sha} is not registered (GATEWAY_SCRIPT_FILES, or GATEWAY_SCRIPTS=any)`
  return {
    mode,
    check(command) {
      if (mode === 'any') return null
      const [first, second] = command.args
      const { name } = command
      if ((name === 'EVAL' || name === 'EVAL_RO') && first !== undefined) {
        const sha = scriptDigest(first)
        return registered.has(sha) ? null : refuse(sha)
      }
      if ((name === 'EVALSHA' || name === 'EVALSHA_RO') && first !== undefined) {
        const sha = first.toLowerCase()
        return registered.has(sha) ? null : refuse(sha)
      }
      if (name === 'SCRIPT' && first?.toUpperCase() === 'LOAD' && second !== undefined) {
        const sha = scriptDigest(second)
        return registered.has(sha) ? null : refuse(sha)
      }
      if (name === 'FUNCTION' && FUNCTION_CODE_CHANGES.has(first?.toUpperCase() ?? '')) {
        return `NOPERM the gateway runs registered scripts only: 'function ${first!.toLowerCase()}' would change the code stored in Redis (GATEWAY_SCRIPTS=any)`
      }
      return null
    },
    runs({ name }) {
      if (name === 'EVAL' || name === 'EVALSHA' || name === 'EVAL_RO' || name === 'EVALSHA_RO')
        return 'script'
      return name === 'FCALL' || name === 'FCALL_RO' ? 'function' : null
    },
  }
}
