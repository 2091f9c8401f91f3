import { StoreError } from '../../errors.js'
import type {
  CommitResult,
  MovedResult,
  RotateOptions,
  SessionKey,
  SessionPatch,
} from '../types.js'
import { checkField, sessionKeyName, userIndexKeyName } from './layout.js'
import type { Operation } from './operation.js'
import { F, luaScript } from './prelude.js'
import { EXISTS, TOO_LARGE, commitResult, int, optionalInt } from './replies.js'

/**
 * `rotate`. KEYS: from key, to key, user index (one slot: the user's). ARGV: now,
 * extendIfBefore, extendTo, from id, to id, graceMs, n, maxDataBytes ('' for none), then n
 * strings of field/value pairs to HSET, then field names to HDEL.
 * Copies the whole hash server-side (writes that landed since the caller read it are kept),
 * applies the patch, sets `$l`/`$o`, extends like commit, moves the index member, and leaves
 * the from key as an alias (`$mv` = to id) living min(graceMs, deadline).
 * Returns nil (gone), {@link POISONED}, `['moved', id]` (already rotated: nothing written),
 * {@link EXISTS}, {@link TOO_LARGE}, or `[expiresAt, extended (0|1)]`.
 */
const script = luaScript(
  'rotate',
  `
local from, to, idx = KEYS[1], KEYS[2], KEYS[3]
local nowS, fromId, toId = ARGV[1], ARGV[4], ARGV[5]
local now, before, grace = tonumber(nowS), tonumber(ARGV[2]), tonumber(ARGV[6])
local st, e, a, aS = state(from, now)
local stop = notLive(st, e, from, idx, fromId, nowS)
if stop then return stop[1] end
if redis.call('EXISTS', to) == 1 then return ${EXISTS} end
local h = redis.call('HGETALL', from)
local n = tonumber(ARGV[7])
local max = tonumber(ARGV[8])
if max then
  local before, after = dataBytes(h, ARGV, 9, 8 + n, 9 + n, #ARGV)
  if tooLarge(max, before, after) then return ${TOO_LARGE} end
end
chunked('HSET', to, h, 1, #h, 200)
if #ARGV >= 9 + n then chunked('HDEL', to, ARGV, 9 + n, #ARGV, 200) end
if n > 0 then chunked('HSET', to, ARGV, 9, 8 + n, 200) end
redis.call('HSET', to, '${F.lastSeenAt}', nowS, '${F.rotatedAt}', nowS)
local eS = redis.call('HGET', to, '${F.expiresAt}')
local extended = 0
local newE, newS = extension(e, a, aS, before, ARGV[3])
if newE then
  e, eS, extended = newE, newS, 1
  redis.call('HSET', to, '${F.expiresAt}', eS)
end
redis.call('PEXPIRE', to, int(math.max(e - now, 1)))
local aliasFor = math.max(math.min(grace, e - now), 1)
redis.call('DEL', from)
redis.call('HSET', from, '${F.alias}', toId, '${F.expiresAt}', int(now + aliasFor))
redis.call('PEXPIRE', from, int(aliasFor))
redis.call('ZREM', idx, fromId)
redis.call('ZADD', idx, eS, toId)
touchIndex(idx, nowS)
return { eS, extended }
`,
)

/** Periodic rotation: the session moves to `to`, `from` stays an alias for the grace window. */
export const rotate: Operation<
  [SessionKey, SessionKey, SessionPatch, RotateOptions],
  CommitResult | MovedResult | null
> = {
  script,
  layout(prefix, from, to, patch, o) {
    if (from.uid === undefined || from.uid !== to.uid) {
      throw new StoreError('rotate() moves an authenticated session within its user')
    }
    for (const name of Object.keys(patch.set)) checkField(name)
    for (const name of patch.del) checkField(name)
    const pairs = Object.entries(patch.set).flat()
    const keys = [
      sessionKeyName(prefix, from),
      sessionKeyName(prefix, to),
      userIndexKeyName(prefix, from.uid),
    ]
    const args = [
      int(o.now),
      int(o.extendIfBefore),
      int(o.extendTo),
      from.id,
      to.id,
      int(o.graceMs),
      String(pairs.length),
      optionalInt(o.maxDataBytes),
      ...pairs,
      ...patch.del,
    ]
    return { keys, args }
  },
  decode: (reply, _from, _to, _patch, o) => commitResult(reply, 'rotate', o.maxDataBytes),
}
