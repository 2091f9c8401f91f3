import type { Actor } from '../types.js'
import { actorKeys, itemKey } from './layout.js'
import type { Operation } from './operation.js'
import { luaScript } from './prelude.js'
import { NOT_LIVE, isNil, live, optionalInt, str } from './replies.js'

/**
 * `userValue`. KEYS: value key, [acting session]. ARGV: 'get' | 'set' | 'del', now, [value].
 * Returns what GET, SET or DEL return, or {@link NOT_LIVE} (as a table, so that it cannot be
 * told apart from a stored value).
 */
const script = luaScript(
  'userValue',
  `
if KEYS[2] and not acting(KEYS[2], tonumber(ARGV[2])) then return { ${NOT_LIVE} } end
if ARGV[1] == 'get' then return redis.call('GET', KEYS[1]) end
if ARGV[1] == 'set' then return redis.call('SET', KEYS[1], ARGV[3]) end
return redis.call('DEL', KEYS[1])
`,
)

/** Reads a small per-user value; null when unset. */
export const getUserValue: Operation<[string, string, Actor | undefined], string | null> = {
  script,
  layout(prefix, uid, name, actor) {
    const keys = [itemKey(prefix, uid, 'v', name), ...actorKeys(prefix, uid, actor)]
    return { keys, args: ['get', optionalInt(actor?.now)] }
  },
  decode(reply) {
    const value = live(reply)
    return isNil(value) ? null : str(value)
  },
}

/** Writes (or with null, deletes) a small per-user value; it does not expire. */
export const setUserValue: Operation<[string, string, string | null, Actor | undefined], void> = {
  script,
  durable: true,
  layout(prefix, uid, name, value, actor) {
    const keys = [itemKey(prefix, uid, 'v', name), ...actorKeys(prefix, uid, actor)]
    const now = optionalInt(actor?.now)
    return { keys, args: value === null ? ['del', now] : ['set', now, value] }
  },
  decode(reply) {
    live(reply)
  },
}
