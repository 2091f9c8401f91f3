/**
 * The Lua helpers every script starts with, and how a script is declared.
 *
 * Rules every script follows:
 * - Redis 6.0 commands only (no GETEX, GETDEL, EXPIRE NX/XX/GT/LT, ZRANGE BYSCORE, COPY, KEYS,
 *   RENAME). Time comes from ARGV (`now`, the middleware's clock), never from TIME.
 * - Cluster-safe: all KEYS of one call share one hash slot. The only keys touched without being
 *   declared are a user's session hashes, built inside the script as `<index key> .. ':' .. id`
 *   from the declared index key `<prefix>{<uid>}`. Their names carry the same `{<uid>}` hash tag,
 *   so they hash to the index key's slot and live on the node that runs the script. Declaring
 *   them is impossible (the ids are read from the index inside the script), and Redis Cluster
 *   accepts undeclared keys of the script's own slot (a cross-slot key would fail loudly).
 * - Replies are simple (see `replies.ts`). Deadlines are written from the ARGV strings given
 *   (never from a Lua number turned into text), so epoch milliseconds keep every digit.
 * - Field names come from `layout.ts` (interpolated as `F.<name>`), never spelled out here.
 *
 * A hash is "poisoned" when the key is not a hash or `$e`/`$a` are missing or not integers:
 * scripts then return {@link POISONED} and change nothing; the stores raise
 * `PoisonedSessionError`, which the middleware treats as "no session".
 */
import { ALIAS_FIELD, FLASH_PREFIX, META_FIELDS, RESERVED_PREFIX } from './layout.js'
import { POISONED } from './replies.js'

/** Reserved field names for the scripts' text: `${F.expiresAt}`, `${F.alias}`. */
export const F = { ...META_FIELDS, alias: ALIAS_FIELD } as const

/** A script: its name (for error messages) and its full source. */
export interface LuaScript {
  readonly name: string
  readonly source: string
}

const HELPERS = [
  `local function int(x) return string.format('%.0f', x) end`,
  // A strict integer (at most 16 digits), or nil.
  `local function num(s)
  if type(s) ~= 'string' or #s > 17 or not string.match(s, '^%-?%d+$') then return nil end
  return tonumber(s)
end`,
  // HSET / HDEL over a slice of a flat array, in chunks (unpack has a stack limit).
  `local function chunked(cmd, key, list, from, to, step)
  local i = from
  while i <= to do
    local j = math.min(i + step - 1, to)
    redis.call(cmd, key, unpack(list, i, j))
    i = j + 1
  end
end`,
  // Makes an index already pruned at nowS live as long as its last member; deletes it when empty.
  `local function expireIndex(idx, nowS)
  local last = redis.call('ZREVRANGE', idx, 0, 0, 'WITHSCORES')
  if #last == 0 then
    redis.call('DEL', idx)
    return
  end
  redis.call('PEXPIRE', idx, int(math.max(tonumber(last[2]) - tonumber(nowS), 1)))
end`,
  // Prunes the index (members whose session's idle deadline passed), then expires it as above.
  `local function touchIndex(idx, nowS)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', nowS)
  expireIndex(idx, nowS)
end`,
  // 'bad' ($e/$a malformed) | 'gone' (a deadline passed) | 'live', e, a, aS | 'moved', id (a
  // rotation alias: a hash holding $mv, the id the session moved to, and $e, the end of the grace
  // window; past it the alias is 'gone'), from the raw $e, $a and $mv of an existing hash
  `local function classify(eS, aS, mv, now)
  if mv then
    local aliasEnd = num(eS)
    if aliasEnd and now < aliasEnd then return 'moved', mv end
    return 'gone'
  end
  local e, a = num(eS), num(aS)
  if not e or not a then return 'bad' end
  if now >= e or now >= a then return 'gone' end
  return 'live', e, a, aS
end`,
  // 'none' | 'bad' (not a hash, or see classify) | what classify says. One command in the common
  // case: a key of another type answers HMGET with an error (pcall), and only a hash without any
  // of the three fields needs EXISTS to be told from a missing key.
  `local function state(key, now)
  local m = redis.pcall('HMGET', key, '${F.expiresAt}', '${F.absoluteExpiresAt}', '${F.alias}')
  if m.err then return 'bad' end
  if not (m[1] or m[2] or m[3]) and redis.call('EXISTS', key) == 0 then return 'none' end
  return classify(m[1], m[2], m[3], now)
end`,
  `local function drop(key, idx, id, nowS)
  redis.call('DEL', key)
  if idx then
    redis.call('ZREM', idx, id)
    touchIndex(idx, nowS)
  end
end`,
  // The reply for a key that is not a live session (wrapped in a table, so that a nil reply can
  // be told from "live"), or nil when it is live: gone entries are deleted on the way.
  `local function notLive(st, e, key, idx, id, nowS)
  if st == 'live' then return nil end
  if st == 'bad' then return { ${POISONED} } end
  if st == 'moved' then return { { 'moved', e } } end
  if st == 'gone' then drop(key, idx, id, nowS) end
  return { false }
end`,
  // Whether the session at key may act for its user at now: live, or a rotation alias inside
  // its grace window whose target is live (same user, same slot; session ids are 43 characters).
  `local function acting(key, now)
  local st, mv = state(key, now)
  if st == 'moved' then st = state(string.sub(key, 1, #key - 43) .. mv, now) end
  return st == 'live'
end`,
  // Data fields count towards the size limit (metadata does not; flash values are data).
  `local function isData(f) return string.sub(f, 1, 1) ~= '${RESERVED_PREFIX}' or string.sub(f, 1, 3) == '${FLASH_PREFIX}' end`,
  // Data bytes (names plus values) of a flat HGETALL reply h, before and after deleting the
  // names list[dfrom..dto] and then setting the pairs list[sfrom..sto] (set names are unique).
  // Only the changed names go into a table: a table entry per field of h cost a 50-field
  // commit 83 -> 69 µs.
  `local function dataBytes(h, list, sfrom, sto, dfrom, dto)
  local changed = {}
  for i = dfrom, dto do changed[list[i]] = true end
  for i = sfrom, sto, 2 do changed[list[i]] = true end
  local before, replaced = 0, 0
  for i = 1, #h, 2 do
    local f = h[i]
    if isData(f) then
      local n = #f + #h[i + 1]
      before = before + n
      if changed[f] then replaced = replaced + n end
    end
  end
  local after = before - replaced
  for i = sfrom, sto, 2 do
    if isData(list[i]) then after = after + #list[i] + #list[i + 1] end
  end
  return before, after
end`,
  // Whether a write is refused by the limit: it grows the data past max (a write that shrinks
  // a session already over a lowered limit still goes through).
  `local function tooLarge(max, before, after) return max and after > max and after > before end`,
  // The extension rule shared by load, commit and rotate: when e <= before, move to min(to, a)
  // if later (toS, the target as text, is parsed only then: most calls extend nothing).
  `local function extension(e, a, aS, before, toS)
  if e > before then return nil end
  local to = tonumber(toS)
  local newE, newS = to, toS
  if a < to then newE, newS = a, aS end
  if newE <= e then return nil end
  return newE, newS
end`,
]

/**
 * Declares a script: the helpers above that its body calls (directly or through another
 * helper), then the body. Redis runs a script's whole text on every call, and each helper it
 * defines is a closure made anew each time: the load script's unused ones cost 0.35 µs of its
 * 6 µs (redis-benchmark, commandstats).
 */
export function luaScript(name: string, body: string): LuaScript {
  let calling = body
  const used: string[] = []
  // a helper calls only helpers defined before it: walking back, the text to search grows
  // with each helper kept
  for (let i = HELPERS.length - 1; i >= 0; i--) {
    const helper = HELPERS[i]!
    const helperName = /^local function (\w+)/.exec(helper)![1]!
    if (new RegExp(`\\b${helperName}\\(`).test(calling)) {
      used.unshift(helper)
      calling += helper
    }
  }
  return { name, source: used.join('\n') + body }
}
