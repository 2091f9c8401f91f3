/**
 * Which Lua scripts the gateway runs. `EVAL` runs any code inside Redis (it can SELECT another
 * database, FLUSHDB, KEYS, MIGRATE keys away or loop until every client gets BUSY), so an
 * allowlist of commands means nothing while any script is accepted. By default only registered
 * scripts run: this package's session scripts, and those the operator adds. `any` is an
 * explicit opt-in (then connect as a restricted ACL user: see the README).
 */
import { createHash } from 'node:crypto'
import { SCRIPTS } from '../store/redis/scripts.js'
import type { GatewayCommand } from './commands.js'

/** `registered`: only scripts whose SHA1 is registered; `any`: every script. */
export type ScriptPolicyMode = 'registered' | 'any'

export interface ScriptPolicyOptions {
  /** Default `registered`. */
  mode?: ScriptPolicyMode | undefined
  /** Sources of scripts to accept besides this package's session scripts. */
  sources?: readonly string[] | undefined
}

export interface ScriptPolicy {
  /** Error text when the command runs or loads a script that is not allowed, else null. */
  check(command: GatewayCommand): string | null
  /** Whether the command runs a script (a deadline then stops it with SCRIPT KILL). */
  runsScript(command: GatewayCommand): boolean
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
    check(command) {
      if (mode === 'any') return null
      const [first, second] = command.args
      if (command.name === 'EVAL' && first !== undefined) {
        const sha = scriptDigest(first)
        return registered.has(sha) ? null : refuse(sha)
      }
      if (command.name === 'EVALSHA' && first !== undefined) {
        const sha = first.toLowerCase()
        return registered.has(sha) ? null : refuse(sha)
      }
      if (command.name === 'SCRIPT' && first?.toUpperCase() === 'LOAD' && second !== undefined) {
        const sha = scriptDigest(second)
        return registered.has(sha) ? null : refuse(sha)
      }
      return null
    },
    runsScript: (command) => command.name === 'EVAL' || command.name === 'EVALSHA',
  }
}
