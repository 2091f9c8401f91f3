import type { CreateOptions, SessionKey, StoredSession } from '../types.js'
import { encodeMeta } from './codec.js'
import { checkField, sessionKeys } from './layout.js'
import type { Operation } from './operation.js'
import { luaScript } from './prelude.js'
import { EXISTS, int, list, refusals, str } from './replies.js'

/**
 * `create`. KEYS: session key, [user index when ARGV[3] = '1'], [replaced key, [its index]].
 * ARGV: now, id, has index ('1'|'0'), maxSessionsPerUser ('0': none), replace mode ('0' none,
 * '1' key only, '2' key and its index), replaced id, expiresAt, then field/value pairs.
 * Returns {@link EXISTS} (nothing written) or the flat array of evicted ids (maybe empty).
 * Eviction removes the soonest-expiring other sessions of the user (never the new one) while
 * more than the limit remain; their hashes are `<index>:<id>`, in the index's slot (see above).
 */
const script = luaScript(
  'create',
  `
local key = KEYS[1]
local nowS, id, expS = ARGV[1], ARGV[2], ARGV[7]
local now = tonumber(nowS)
if redis.call('EXISTS', key) == 1 then return ${EXISTS} end
local idx, k = nil, 2
if ARGV[3] == '1' then
  idx, k = KEYS[2], 3
end
if ARGV[5] ~= '0' then
  redis.call('DEL', KEYS[k])
  if ARGV[5] == '2' then
    redis.call('ZREM', KEYS[k + 1], ARGV[6])
    touchIndex(KEYS[k + 1], nowS)
  end
end
chunked('HSET', key, ARGV, 8, #ARGV, 200)
redis.call('PEXPIRE', key, int(math.max(tonumber(expS) - now, 1)))
local evicted = {}
if idx then
  redis.call('ZADD', idx, expS, id)
  -- pruned before counting: expired members must not cause an eviction
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', nowS)
  local max = tonumber(ARGV[4])
  if max > 0 then
    local over = redis.call('ZCARD', idx) - max
    if over > 0 then
      for _, m in ipairs(redis.call('ZRANGE', idx, 0, over)) do
        if #evicted == over then break end
        if m ~= id then
          evicted[#evicted + 1] = m
          redis.call('DEL', idx .. ':' .. m)
          redis.call('ZREM', idx, m)
        end
      end
    end
  end
  expireIndex(idx, nowS)
end
return evicted
`,
)

/**
 * Writes a new session. `replace` is an entry deleted in the same step: the caller passes it
 * only when its keys share the new key's slot (else it deletes it separately).
 * @returns the ids evicted by `maxSessionsPerUser`
 */
export const create: Operation<
  [SessionKey, StoredSession, CreateOptions, SessionKey | undefined],
  string[]
> = {
  script,
  durable: true,
  layout(prefix, key, session, o, replace) {
    for (const name of Object.keys(session.fields)) checkField(name)
    const replaceKeys = replace ? sessionKeys(prefix, replace) : []
    const pairs = Object.entries({ ...session.fields, ...encodeMeta(session.meta) }).flat()
    const max = o.maxSessionsPerUser && o.maxSessionsPerUser > 0 ? o.maxSessionsPerUser : 0
    const args = [
      int(o.now),
      key.id,
      key.uid === undefined ? '0' : '1',
      int(max),
      String(replaceKeys.length),
      replace?.id ?? '',
      int(session.meta.expiresAt),
      ...pairs,
    ]
    return { keys: [...sessionKeys(prefix, key), ...replaceKeys], args }
  },
  decode(reply) {
    refusals(reply)
    return list(reply, 'create').map(str)
  },
}
