import type { DestroyUserOptions } from '../types.js'
import { actorKeys, userIndexKeyName } from './layout.js'
import type { Operation } from './operation.js'
import { luaScript } from './prelude.js'
import { NOT_LIVE, int, integer, live } from './replies.js'

/**
 * `destroyUser`. KEYS: user index, [acting session]. ARGV: now, id to keep ('' for none).
 * Deletes every session listed in the index but the one kept, and the index when nothing is
 * kept. Returns how many were live (a hash with valid deadlines after now), or
 * {@link NOT_LIVE} (nothing deleted).
 */
const script = luaScript(
  'destroyUser',
  `
local idx = KEYS[1]
local nowS, keep = ARGV[1], ARGV[2]
local now = tonumber(nowS)
if KEYS[2] and not acting(KEYS[2], now) then return ${NOT_LIVE} end
local live = 0
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  if m ~= keep then
    local k = idx .. ':' .. m
    if state(k, now) == 'live' then live = live + 1 end
    redis.call('DEL', k)
    redis.call('ZREM', idx, m)
  end
end
if keep == '' then redis.call('DEL', idx) else touchIndex(idx, nowS) end
return live
`,
)

/** Deletes every session of a user but `except`. @returns how many were live */
export const destroyUser: Operation<[string, number, DestroyUserOptions], number> = {
  script,
  durable: true,
  layout(prefix, uid, now, o) {
    const keys = [userIndexKeyName(prefix, uid), ...actorKeys(prefix, uid, o.actor)]
    return { keys, args: [int(now), o.except ?? ''] }
  },
  decode: (reply) => integer(live(reply), 'destroyUser'),
}
