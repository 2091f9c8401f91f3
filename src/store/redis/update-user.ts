import type { Actor, UserChange } from '../types.js'
import { actorKeys, userIndexKeyName } from './layout.js'
import type { Operation } from './operation.js'
import { F, luaScript } from './prelude.js'
import { NOT_LIVE, int, integer, live } from './replies.js'

/**
 * `updateUser`. KEYS: user index, [acting session]. ARGV: now, roles (JSON, '' to keep),
 * methods to revoke (JSON, '' for none), id to leave out ('' for none).
 * Sets `$r` and adds to `$x` (revoked methods) on every live session of the user but the one
 * left out. Returns how many, or {@link NOT_LIVE} (nothing changed).
 */
const script = luaScript(
  'updateUser',
  `
local idx = KEYS[1]
local now = tonumber(ARGV[1])
if KEYS[2] and not acting(KEYS[2], now) then return ${NOT_LIVE} end
local revoke = ARGV[3] ~= '' and cjson.decode(ARGV[3]) or nil
local n = 0
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local k = idx .. ':' .. m
  if m ~= ARGV[4] and state(k, now) == 'live' then
    if ARGV[2] ~= '' then redis.call('HSET', k, '${F.roles}', ARGV[2]) end
    if revoke then
      local list, seen = {}, {}
      local ok, cur = pcall(cjson.decode, redis.call('HGET', k, '${F.revokedMethods}') or '[]')
      for _, v in ipairs(ok and type(cur) == 'table' and cur or {}) do
        if type(v) == 'string' and not seen[v] then
          list[#list + 1], seen[v] = v, true
        end
      end
      for _, v in ipairs(revoke) do
        if not seen[v] then list[#list + 1], seen[v] = v, true end
      end
      redis.call('HSET', k, '${F.revokedMethods}', cjson.encode(list))
    end
    n = n + 1
  end
end
return n
`,
)

/** Changes every live session of a user. @returns how many changed */
export const updateUser: Operation<[string, UserChange, number, Actor | undefined], number> = {
  script,
  layout(prefix, uid, change, now, actor) {
    const args = [
      int(now),
      change.roles === undefined ? '' : JSON.stringify(change.roles),
      change.revokeMethods?.length ? JSON.stringify(change.revokeMethods) : '',
      change.except ?? '',
    ]
    return { keys: [userIndexKeyName(prefix, uid), ...actorKeys(prefix, uid, actor)], args }
  },
  decode: (reply) => integer(live(reply), 'updateUser'),
}
