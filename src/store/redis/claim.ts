import type { Actor } from '../types.js'
import { actorKeys, itemKey } from './layout.js'
import type { Operation } from './operation.js'
import { luaScript } from './prelude.js'
import { NOT_LIVE, int, integer, live, optionalInt } from './replies.js'

/**
 * `claim`. KEYS: marker, [acting session]. ARGV: ttlMs, now. Returns 1 when newly set, 0 when
 * it already existed, or {@link NOT_LIVE}.
 */
const script = luaScript(
  'claim',
  `
if KEYS[2] and not acting(KEYS[2], tonumber(ARGV[2])) then return ${NOT_LIVE} end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
`,
)

/** Marks a per-user name used for a while. @returns false when it already was */
export const claim: Operation<[string, string, number, Actor | undefined], boolean> = {
  script,
  layout(prefix, uid, name, ttlMs, actor) {
    const keys = [itemKey(prefix, uid, 'c', name), ...actorKeys(prefix, uid, actor)]
    return { keys, args: [int(ttlMs), optionalInt(actor?.now)] }
  },
  decode: (reply) => integer(live(reply), 'claim') === 1,
}
