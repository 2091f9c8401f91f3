import type { HitOptions, HitResult } from '../types.js'
import { actorKeys, itemKey } from './layout.js'
import type { Operation } from './operation.js'
import { luaScript } from './prelude.js'
import { NOT_LIVE, int, integer, list, live, optionalInt } from './replies.js'

/**
 * `hit`. KEYS: counter, [acting session]. ARGV: windowMs, by, limit ('' none), now.
 * A fixed-window counter: adds `by` (0 reads, negative gives back) and starts the window when
 * the counter has none; a counter given back to 0 is deleted. With a limit, an addition that
 * would take the count above it is refused and changes nothing. Returns `[count, allowed (0|1), ms left in the window]`, or
 * {@link NOT_LIVE}.
 */
const script = luaScript(
  'hit',
  `
if KEYS[2] and not acting(KEYS[2], tonumber(ARGV[4])) then return ${NOT_LIVE} end
local by, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
local allowed = 1
if limit and by > 0 and c + by > limit then
  allowed = 0
else
  c = redis.call('INCRBY', KEYS[1], ARGV[2])
  if c <= 0 and by < 0 then
    redis.call('DEL', KEYS[1])
    return { 0, 1, 0 }
  end
end
local ttl = redis.call('PTTL', KEYS[1])
if allowed == 1 and ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { c, allowed, math.max(ttl, 0) }
`,
)

/** A fixed-window per-user counter, with an optional limit checked in the same step. */
export const hit: Operation<[string, string, HitOptions], HitResult> = {
  script,
  layout(prefix, uid, name, o) {
    const keys = [itemKey(prefix, uid, 'h', name), ...actorKeys(prefix, uid, o.actor)]
    const args = [int(o.windowMs), int(o.by ?? 1), optionalInt(o.limit), optionalInt(o.actor?.now)]
    return { keys, args }
  },
  decode(reply) {
    const [count, allowed, resetMs] = list(live(reply), 'hit')
    return {
      count: integer(count, 'hit'),
      allowed: integer(allowed, 'hit') === 1,
      resetMs: integer(resetMs, 'hit'),
    }
  },
}
