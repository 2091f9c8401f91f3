import type {
  CommitOptions,
  CommitResult,
  MovedResult,
  SessionKey,
  SessionPatch,
} from '../types.js'
import { encodeMeta } from './codec.js'
import { checkField, sessionKeys } from './layout.js'
import type { Operation } from './operation.js'
import { F, luaScript } from './prelude.js'
import { TOO_LARGE, commitResult, int, optionalInt } from './replies.js'

/**
 * `commit`. KEYS: session key, [user index]. ARGV: now, extendIfBefore, extendTo, id,
 * explicit expiresAt ('' for none), n, maxDataBytes ('' for none), then n strings of
 * field/value pairs to HSET (data and metadata), then the field names to HDEL.
 * Returns nil when gone (nothing written; an expired hash is deleted); {@link POISONED};
 * {@link TOO_LARGE} (nothing written);
 * `['moved', id]` for a rotation alias (nothing written); or
 * `[expiresAt (string), extended (0|1)]`. Sets `$l` to now; with a uid, ZADDs the index score,
 * prunes the index and sets its TTL to its last score.
 */
const script = luaScript(
  'commit',
  `
local key, idx = KEYS[1], KEYS[2]
local nowS, id = ARGV[1], ARGV[4]
local now, before = tonumber(nowS), tonumber(ARGV[2])
local st, e, a, aS = state(key, now)
local stop = notLive(st, e, key, idx, id, nowS)
if stop then return stop[1] end
local n = tonumber(ARGV[6])
local max = tonumber(ARGV[7])
if max then
  local before, after = dataBytes(redis.call('HGETALL', key), ARGV, 8, 7 + n, 8 + n, #ARGV)
  if tooLarge(max, before, after) then return ${TOO_LARGE} end
end
if #ARGV >= 8 + n then chunked('HDEL', key, ARGV, 8 + n, #ARGV, 200) end
if n > 0 then chunked('HSET', key, ARGV, 8, 7 + n, 200) end
redis.call('HSET', key, '${F.lastSeenAt}', nowS)
local eS = redis.call('HGET', key, '${F.expiresAt}')
local moved = false
if ARGV[5] ~= '' then
  local x, xS = tonumber(ARGV[5]), ARGV[5]
  if x > a then x, xS = a, aS end
  e, eS, moved = x, xS, true
end
local extended = 0
local newE, newS = extension(e, a, aS, before, ARGV[3])
if newE then
  e, eS, moved, extended = newE, newS, true, 1
end
if moved then
  redis.call('HSET', key, '${F.expiresAt}', eS)
  redis.call('PEXPIRE', key, int(math.max(e - now, 1)))
end
if idx then
  redis.call('ZADD', idx, eS, id)
  touchIndex(idx, nowS)
end
return { eS, extended }
`,
)

/** Applies a field patch to a live session, extending it as `load` does. */
export const commit: Operation<
  [SessionKey, SessionPatch, CommitOptions],
  CommitResult | MovedResult | null
> = {
  script,
  layout(prefix, key, patch, o) {
    for (const name of Object.keys(patch.set)) checkField(name)
    for (const name of patch.del) checkField(name)
    const { expiresAt, lastSeenAt: _ignored, ...meta } = patch.meta ?? {}
    const pairs = Object.entries({ ...patch.set, ...encodeMeta(meta) }).flat()
    const args = [
      int(o.now),
      int(o.extendIfBefore),
      int(o.extendTo),
      key.id,
      expiresAt === undefined ? '' : int(expiresAt),
      String(pairs.length),
      optionalInt(o.maxDataBytes),
      ...pairs,
      ...patch.del,
    ]
    return { keys: sessionKeys(prefix, key), args }
  },
  decode: (reply, _key, _patch, o) => commitResult(reply, 'commit', o.maxDataBytes),
}
