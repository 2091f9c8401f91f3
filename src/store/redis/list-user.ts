import type { Actor, SessionSummary } from '../types.js'
import { decodeSession, PoisonedSessionError } from './codec.js'
import { SUMMARY_FIELDS, actorKeys, userIndexKeyName } from './layout.js'
import type { Operation } from './operation.js'
import { luaScript } from './prelude.js'
import { NOT_LIVE, int, isNil, list, live, str } from './replies.js'

/**
 * `listUser`. KEYS: user index, [acting session]. ARGV: now.
 * Prunes the index (scores <= now), then reads the members scored after now, soonest first, and
 * returns a flat array of tuples `[id, ...SUMMARY_FIELDS, ...]` (nil for a missing field), or
 * {@link NOT_LIVE}. Members whose hash vanished or expired are removed; poisoned ones are
 * skipped.
 */
const script = luaScript(
  'listUser',
  `
local idx = KEYS[1]
local nowS = ARGV[1]
local now = tonumber(nowS)
if KEYS[2] and not acting(KEYS[2], now) then return ${NOT_LIVE} end
redis.call('ZREMRANGEBYSCORE', idx, '-inf', nowS)
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', idx, '(' .. nowS, '+inf')) do
  local k = idx .. ':' .. m
  local st = state(k, now)
  if st == 'live' then
    local v = redis.call('HMGET', k, ${SUMMARY_FIELDS.map((f) => `'${f}'`).join(', ')})
    out[#out + 1] = m
    for i = 1, ${SUMMARY_FIELDS.length} do out[#out + 1] = v[i] end
  elseif st == 'none' then
    redis.call('ZREM', idx, m)
  elseif st == 'gone' then
    redis.call('DEL', k)
    redis.call('ZREM', idx, m)
  end
end
touchIndex(idx, nowS)
return out
`,
)

/** The live sessions of a user, soonest expiry first. */
export const listUser: Operation<[string, number, Actor | undefined], SessionSummary[]> = {
  script,
  layout(prefix, uid, now, actor) {
    const keys = [userIndexKeyName(prefix, uid), ...actorKeys(prefix, uid, actor)]
    return { keys, args: [int(now)] }
  },
  decode: (reply) => decodeSummaries(list(live(reply), 'listUser')),
}

/** Decodes the tuples `[id, ...SUMMARY_FIELDS]`; entries whose metadata will not decode are skipped. */
export function decodeSummaries(flat: readonly unknown[]): SessionSummary[] {
  const width = 1 + SUMMARY_FIELDS.length
  const out: SessionSummary[] = []
  for (let i = 0; i + width <= flat.length; i += width) {
    const id = str(flat[i])
    const hash: Record<string, string> = {}
    SUMMARY_FIELDS.forEach((field, j) => {
      const v = flat[i + 1 + j]
      if (!isNil(v)) hash[field] = str(v)
    })
    try {
      const { meta } = decodeSession(hash)
      out.push({
        id,
        createdAt: meta.createdAt,
        lastSeenAt: meta.lastSeenAt,
        expiresAt: meta.expiresAt,
        authTime: meta.authTime,
        amr: meta.amr,
        client: meta.client,
        ...(meta.revokedMethods && { revokedMethods: meta.revokedMethods }),
      })
    } catch (err) {
      if (!(err instanceof PoisonedSessionError)) throw err
    }
  }
  return out.sort((a, b) => a.expiresAt - b.expiresAt)
}
