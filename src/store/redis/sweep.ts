import { F, luaScript } from './prelude.js'
import { int, integer } from './replies.js'
import type { Operation } from './operation.js'

/**
 * `sweep` (the ops CLI). KEYS: a user's index. ARGV: now. Prunes stale members: scores in the
 * past, and members whose session hash is gone or is a rotation alias (`rotate` moves the member
 * to the new id; an alias is not a session). Only members are removed, never a hash: an alias
 * keeps serving its grace window. An index left empty is deleted. Returns how many went.
 */
const script = luaScript(
  'sweep',
  `
local idx = KEYS[1]
local removed = redis.call('ZREMRANGEBYSCORE', idx, '-inf', ARGV[1])
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local k = idx .. ':' .. m
  local t = redis.call('TYPE', k)['ok']
  if t == 'none' or (t == 'hash' and redis.call('HEXISTS', k, '${F.alias}') == 1) then
    redis.call('ZREM', idx, m)
    removed = removed + 1
  end
end
if redis.call('ZCARD', idx) == 0 then redis.call('DEL', idx) end
return removed
`,
)

/** Prunes one user's index (given by its key name); how many members it removed. */
export const sweep: Operation<[indexKey: string, now: number], number> = {
  script,
  layout: (_prefix, indexKey, now) => ({ keys: [indexKey], args: [int(now)] }),
  decode: (reply) => integer(reply, 'sweep'),
}
