import type { Actor, SessionKey } from '../types.js'
import { actorKeys, sessionKeys } from './layout.js'
import type { Operation } from './operation.js'
import { F, luaScript } from './prelude.js'
import { NOT_LIVE, live, optionalInt } from './replies.js'

/**
 * `destroy`. KEYS: session key, [user index, [acting session]]. ARGV: id, now.
 * Returns 1 when a hash was deleted, else 0, or {@link NOT_LIVE} (nothing deleted) when an
 * acting session is given and is not live. Deletes the index when it becomes empty. Through a
 * rotation alias, the session it points to is deleted too.
 */
const script = luaScript(
  'destroy',
  `
if KEYS[3] and not acting(KEYS[3], tonumber(ARGV[2])) then return ${NOT_LIVE} end
if KEYS[2] and redis.call('TYPE', KEYS[1])['ok'] == 'hash' then
  local mv = redis.call('HGET', KEYS[1], '${F.alias}')
  if mv then
    redis.call('DEL', KEYS[2] .. ':' .. mv)
    redis.call('ZREM', KEYS[2], mv)
  end
end
local n = redis.call('DEL', KEYS[1])
if KEYS[2] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end
end
return n
`,
)

/** Deletes a session (through an alias, its target too), for a live actor when one is given. */
export const destroy: Operation<[SessionKey, Actor | undefined], void> = {
  script,
  durable: true,
  layout(prefix, key, actor) {
    const keys = sessionKeys(prefix, key)
    if (key.uid !== undefined) keys.push(...actorKeys(prefix, key.uid, actor))
    return { keys, args: [key.id, optionalInt(actor?.now)] }
  },
  decode(reply) {
    live(reply)
  },
}
