import type { LoadOptions, LoadResult, MovedResult, SessionKey } from '../types.js'
import { decodeSession } from './codec.js'
import { checkField, sessionKeys } from './layout.js'
import type { Operation } from './operation.js'
import { F, luaScript } from './prelude.js'
import { POISONED, TOO_LARGE, int, jsonList, optionalInt, refusals, str } from './replies.js'

/**
 * `load`. KEYS: session key, [user index]. ARGV: now, extendIfBefore, extendTo, consume
 * ('1'|'0'), id, [field, by, maxDataBytes ('' none)]: with a field, first add `by` to the
 * integer it holds (missing counts as 0; refused, nothing changed, unless both it and the sum
 * are safe integers, i.e. within 2^53 - 1; {@link TOO_LARGE}, nothing changed, when the new
 * value takes the data past maxDataBytes).
 * Returns nil when gone (a gone hash found expired is deleted, with its index member);
 * {@link POISONED}; `['moved', id]` for a rotation alias (nothing changed); or the JSON text
 * (cjson) of `[field, value, field, value, ..., flags?]`: HGETALL with `$e` and `$l` already
 * updated; flags (a string, last, present only when not 0, so the list's length is then odd)
 * = extended (1) + increment refused (2). Extension sets `$e`, `$l`, PEXPIRE and the index
 * score. One HGETALL serves the checks, the increment, its size check (the data bytes counted
 * in the same loop; the field is data, see checkField) and the reply: a key of another type
 * answers it with an error table, a missing key with an empty list. With consume the hash and
 * index member are deleted instead (the returned data shows the extension the caller should
 * carry over).
 */
const script = luaScript(
  'load',
  `
local key, idx = KEYS[1], KEYS[2]
local nowS, id = ARGV[1], ARGV[5]
local now, before = tonumber(nowS), tonumber(ARGV[2])
local consume = ARGV[4] == '1'
local field = ARGV[6]
local h = redis.pcall('HGETALL', key)
if h.err then return ${POISONED} end
if #h == 0 then return false end
local eS, aS, mv, at
local bytes = 0
for i = 1, #h, 2 do
  local f = h[i]
  if f == '${F.expiresAt}' then eS = h[i + 1] elseif f == '${F.absoluteExpiresAt}' then aS = h[i + 1] elseif f == '${F.alias}' then mv = h[i + 1] end
  if field then
    if f == field then at = i + 1 end
    if isData(f) then bytes = bytes + #f + #h[i + 1] end
  end
end
local st, e, a = classify(eS, aS, mv, now)
local stop = notLive(st, e, key, idx, id, nowS)
if stop then return stop[1] end
local flags = 0
if field and not consume then
  local n = 0
  if at then n = num(h[at]) end
  local sum = n and math.abs(n) <= 9007199254740991 and n + tonumber(ARGV[7])
  if sum and math.abs(sum) <= 9007199254740991 then
    local text = int(sum)
    local after = bytes + #field + #text
    if at then after = after - #field - #h[at] end
    if tooLarge(tonumber(ARGV[8]), bytes, after) then return ${TOO_LARGE} end
    redis.call('HSET', key, field, text)
    if at then
      h[at] = text
    else
      h[#h + 1] = field
      h[#h + 1] = text
    end
  else
    flags = 2
  end
end
local newE, newS = extension(e, a, aS, before, ARGV[3])
if newE then
  flags = flags + 1
  local seen = false
  for i = 1, #h, 2 do
    if h[i] == '${F.expiresAt}' then h[i + 1] = newS end
    if h[i] == '${F.lastSeenAt}' then
      h[i + 1] = nowS
      seen = true
    end
  end
  if not seen then
    h[#h + 1] = '${F.lastSeenAt}'
    h[#h + 1] = nowS
  end
  if not consume then
    redis.call('HSET', key, '${F.expiresAt}', newS, '${F.lastSeenAt}', nowS)
    redis.call('PEXPIRE', key, int(math.max(newE - now, 1)))
    if idx then
      redis.call('ZADD', idx, newS, id)
      touchIndex(idx, nowS)
    end
  end
end
if consume then drop(key, idx, id, nowS) end
-- flags only when set: the common read sends HGETALL's pairs as they are (odd length: flags last)
if flags > 0 then h[#h + 1] = int(flags) end
return cjson.encode(h)
`,
)

/** Reads a session, extending it when due; with `increment`, adds to a field first. */
export const load: Operation<[SessionKey, LoadOptions], LoadResult | MovedResult | null> = {
  script,
  layout(prefix, key, o) {
    const args = [int(o.now), int(o.extendIfBefore), int(o.extendTo), o.consume ? '1' : '0', key.id]
    if (o.increment) {
      checkField(o.increment.field)
      args.push(o.increment.field, int(o.increment.by), optionalInt(o.maxDataBytes))
    }
    return { keys: sessionKeys(prefix, key), args }
  },
  decode(reply, _key, o) {
    if (reply === null || reply === undefined) return null
    refusals(reply, o.maxDataBytes)
    if (Array.isArray(reply) && reply[0] === 'moved') return { movedTo: str(reply[1]) }
    // a live session comes as one JSON text: [field, value, ..., flags when not 0]
    const flat = jsonList(reply, 'load')
    const bits = flat.length % 2 === 1 ? Number(flat.pop()) : 0
    const session = decodeSession(flat)
    return bits & 2
      ? { session, extended: (bits & 1) === 1, incrementRefused: true }
      : { session, extended: (bits & 1) === 1 }
  },
}
