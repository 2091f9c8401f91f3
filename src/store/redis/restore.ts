import { userIndexKeyName } from './layout.js'
import type { Operation } from './operation.js'
import { luaScript } from './prelude.js'
import { int, integer } from './replies.js'

/**
 * `restore` (the ops CLI's import). KEYS: session, [index]. ARGV: replace ('1'|'0'), pttl, id,
 * index score, field/value pairs. Returns 1 when written, 0 when the key existed and was kept.
 */
const script = luaScript(
  'restore',
  `
if ARGV[1] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
chunked('HSET', KEYS[1], ARGV, 5, #ARGV, 200)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if KEYS[2] then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
end
return 1
`,
)

/** One exported session to write back. */
export interface RestoreInput {
  /** The session's key name, as exported (prefix included). */
  key: string
  id: string
  uid: string | undefined
  /** Time to live left, milliseconds (> 0). */
  pttl: number
  /** Its score in the user's index: the idle deadline, as stored (`$e`). */
  score: string
  /** Every field of the hash, metadata included, as exported. */
  fields: Record<string, string>
  /** Overwrite an existing session (else it is kept). */
  replace: boolean
}

/** Restores one session if absent (or always, with `replace`) and adds it to its user's index. */
export const restore: Operation<[RestoreInput], boolean> = {
  script,
  layout(prefix, s) {
    const keys = [s.key, ...(s.uid !== undefined ? [userIndexKeyName(prefix, s.uid)] : [])]
    const args = [s.replace ? '1' : '0', int(s.pttl), s.id, s.score]
    return { keys, args: args.concat(Object.entries(s.fields).flat()) }
  },
  decode: (reply) => integer(reply, 'restore') === 1,
}
