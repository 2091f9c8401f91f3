/**
 * The Lua scripts behind both Redis stores (ioredis over TCP, @upstash/redis over REST): one
 * source, so both stores enforce expiry, extension, the per-user index and "no resurrection"
 * with the same code, in one atomic step and one round trip per store call.
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
 * - Every value a script returns is simple: nil, an integer, a flat array of strings (and
 *   nils) with at most one leading integer, or a flat array of strings as one JSON text
 *   (`load`, the call of every request: a client decodes one string far faster than a reply of
 *   many elements, about 6,000 instructions per element in ioredis 6, and cjson encodes it in
 *   Redis for about what the array reply costs). It decodes the same from RESP (ioredis) and
 *   from Upstash's REST JSON (with automatic deserialization turned off). Decoders:
 *   `redis-common.ts`.
 * - Deadlines are written from the ARGV strings given (never from a Lua number turned into text),
 *   so epoch milliseconds keep every digit.
 *
 * A hash is "poisoned" when the key is not a hash or `$e`/`$a` are missing or not integers:
 * `load` and `commit` then return the integer {@link POISONED} and change nothing; the stores
 * raise `PoisonedSessionError`, which the middleware treats as "no session".
 */

/** Returned by `load` and `commit` for a key that cannot be a session we wrote. */
export const POISONED = -1
/** Returned by `create` when the session key already exists (nothing was written). */
export const EXISTS = -2
/** Returned by a per-user script whose acting session is not live (nothing was done). */
export const NOT_LIVE = -3
/** Returned when a write would take the session's data past `maxDataBytes` (nothing written). */
export const TOO_LARGE = -4

/** Shared helpers, prepended to every script. */
// The Lua helpers, prepended to every script; their comments stay out of the script text
// (it is sent to Redis and shipped in every edge bundle).
const PRELUDE = [
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
  // Prunes the index, then makes it live as long as its last member; deletes it when empty.
  `local function touchIndex(idx, nowS)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', nowS)
  local last = redis.call('ZREVRANGE', idx, 0, 0, 'WITHSCORES')
  if #last == 0 then
    redis.call('DEL', idx)
    return
  end
  redis.call('PEXPIRE', idx, int(math.max(tonumber(last[2]) - tonumber(nowS), 1)))
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
  local m = redis.pcall('HMGET', key, '$e', '$a', '$mv')
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
  `local function isData(f) return string.sub(f, 1, 1) ~= '$' or string.sub(f, 1, 3) == '$f:' end`,
  // Data bytes (names plus values) of a flat HGETALL reply h, before and after deleting the
  // names list[dfrom..dto] and then setting the pairs list[sfrom..sto].
  `local function dataBytes(h, list, sfrom, sto, dfrom, dto)
  local size, before = {}, 0
  for i = 1, #h, 2 do
    if isData(h[i]) then
      size[h[i]] = #h[i] + #h[i + 1]
      before = before + size[h[i]]
    end
  end
  for i = dfrom, dto do size[list[i]] = nil end
  for i = sfrom, sto, 2 do
    if isData(list[i]) then size[list[i]] = #list[i] + #list[i + 1] end
  end
  local after = 0
  for _, n in pairs(size) do after = after + n end
  return before, after
end`,
  // Whether a write is refused by the limit: it grows the data past max (a write that shrinks
  // a session already over a lowered limit still goes through).
  `local function tooLarge(max, before, after) return max and after > max and after > before end`,
  // The extension rule shared by load and commit: when e <= before, move to min(to, a) if later.
  `local function extension(e, a, aS, before, to, toS)
  if e > before then return nil end
  local newE, newS = to, toS
  if a < to then newE, newS = a, aS end
  if newE <= e then return nil end
  return newE, newS
end`,
].join('\n')

/**
 * `load`. KEYS: session key, [user index]. ARGV: now, extendIfBefore, extendTo, consume
 * ('1'|'0'), id, [field, by, maxDataBytes ('' none)]: with a field, first add `by` to the
 * integer it holds (missing counts as 0; refused, nothing changed, unless both it and the sum
 * are safe integers, i.e. within 2^53 - 1; {@link TOO_LARGE}, nothing changed, when the new
 * value takes the data past maxDataBytes).
 * Returns nil when gone (a gone hash found expired is deleted, with its index member);
 * {@link POISONED}; `['moved', id]` for a rotation alias (nothing changed); or the JSON text
 * (cjson) of `[flags, field, value, field, value, ...]`: HGETALL with `$e` and `$l` already
 * updated; flags (a string) = extended (1) + increment refused (2). Extension sets `$e`, `$l`,
 * PEXPIRE and the index score; with consume the hash and index member are deleted instead (the
 * returned data shows the extension the caller should carry over).
 */
const LOAD = `
local key, idx = KEYS[1], KEYS[2]
local nowS, id = ARGV[1], ARGV[5]
local now, before, to = tonumber(nowS), tonumber(ARGV[2]), tonumber(ARGV[3])
local consume = ARGV[4] == '1'
local field = ARGV[6]
-- One read of the whole hash serves the checks, the increment and the reply (a key of another
-- type answers with an error table; a missing key with an empty list).
local h = redis.pcall('HGETALL', key)
if h.err then return ${POISONED} end
if #h == 0 then return false end
local eS, aS, mv, at
for i = 1, #h, 2 do
  local f = h[i]
  if f == '$e' then eS = h[i + 1] elseif f == '$a' then aS = h[i + 1] elseif f == '$mv' then mv = h[i + 1] end
  if f == field then at = i + 1 end
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
    local before, after = dataBytes(h, { field, text }, 1, 2, 1, 0)
    if tooLarge(tonumber(ARGV[8]), before, after) then return ${TOO_LARGE} end
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
local newE, newS = extension(e, a, aS, before, to, ARGV[3])
if newE then
  flags = flags + 1
  local seen = false
  for i = 1, #h, 2 do
    if h[i] == '$e' then h[i + 1] = newS end
    if h[i] == '$l' then
      h[i + 1] = nowS
      seen = true
    end
  end
  if not seen then
    h[#h + 1] = '$l'
    h[#h + 1] = nowS
  end
  if not consume then
    redis.call('HSET', key, '$e', newS, '$l', nowS)
    redis.call('PEXPIRE', key, int(math.max(newE - now, 1)))
    if idx then
      redis.call('ZADD', idx, newS, id)
      touchIndex(idx, nowS)
    end
  end
end
if consume then drop(key, idx, id, nowS) end
table.insert(h, 1, int(flags))
return cjson.encode(h)
`

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
const COMMIT = `
local key, idx = KEYS[1], KEYS[2]
local nowS, id = ARGV[1], ARGV[4]
local now, before, to = tonumber(nowS), tonumber(ARGV[2]), tonumber(ARGV[3])
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
redis.call('HSET', key, '$l', nowS)
local eS = redis.call('HGET', key, '$e')
local moved = false
if ARGV[5] ~= '' then
  local x, xS = tonumber(ARGV[5]), ARGV[5]
  if x > a then x, xS = a, aS end
  e, eS, moved = x, xS, true
end
local extended = 0
local newE, newS = extension(e, a, aS, before, to, ARGV[3])
if newE then
  e, eS, moved, extended = newE, newS, true, 1
end
if moved then
  redis.call('HSET', key, '$e', eS)
  redis.call('PEXPIRE', key, int(math.max(e - now, 1)))
end
if idx then
  redis.call('ZADD', idx, eS, id)
  touchIndex(idx, nowS)
end
return { eS, extended }
`

/**
 * `create`. KEYS: session key, [user index when ARGV[3] = '1'], [replaced key, [its index]].
 * ARGV: now, id, has index ('1'|'0'), maxSessionsPerUser ('0': none), replace mode ('0' none,
 * '1' key only, '2' key and its index), replaced id, expiresAt, then field/value pairs.
 * Returns {@link EXISTS} (nothing written) or the flat array of evicted ids (maybe empty).
 * Eviction removes the soonest-expiring other sessions of the user (never the new one) while
 * more than the limit remain; their hashes are `<index>:<id>`, in the index's slot (see above).
 */
const CREATE = `
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
  touchIndex(idx, nowS)
end
return evicted
`

/**
 * `destroy`. KEYS: session key, [user index, [acting session]]. ARGV: id, now.
 * Returns 1 when a hash was deleted, else 0, or {@link NOT_LIVE} (nothing deleted) when an
 * acting session is given and is not live. Deletes the index when it becomes empty. Through a
 * rotation alias, the session it points to is deleted too.
 */
const DESTROY = `
if KEYS[3] and not acting(KEYS[3], tonumber(ARGV[2])) then return ${NOT_LIVE} end
-- Destroying through a rotation alias ends the session it points to (same user, same slot).
if KEYS[2] and redis.call('TYPE', KEYS[1])['ok'] == 'hash' then
  local mv = redis.call('HGET', KEYS[1], '$mv')
  if mv then
    redis.call('DEL', KEYS[2] .. ':' .. mv)
    redis.call('ZREM', KEYS[2], mv)
  end
end
local n = redis.call('DEL', KEYS[1])
if KEYS[2] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end
end
return n
`

/**
 * `destroyUser`. KEYS: user index, [acting session]. ARGV: now, id to keep ('' for none).
 * Deletes every session listed in the index but the one kept, and the index when nothing is
 * kept. Returns how many were live (a hash with valid deadlines after now), or
 * {@link NOT_LIVE} (nothing deleted).
 */
const DESTROY_USER = `
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
`

/** Summary fields read per listed session, in the order `listUser` returns them after the id. */
export const SUMMARY_FIELDS = ['$c', '$l', '$e', '$a', '$t', '$m', '$h', '$x'] as const

/**
 * `listUser`. KEYS: user index, [acting session]. ARGV: now.
 * Prunes the index (scores <= now), then reads the members scored after now, soonest first, and
 * returns a flat array of tuples `[id, ...SUMMARY_FIELDS, ...]` (nil for a missing field), or
 * {@link NOT_LIVE}. Members whose hash vanished or expired are removed; poisoned ones are
 * skipped.
 */
const LIST_USER = `
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
`

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
const ROTATE = `
local from, to, idx = KEYS[1], KEYS[2], KEYS[3]
local nowS, fromId, toId = ARGV[1], ARGV[4], ARGV[5]
local now, before, target, grace = tonumber(nowS), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[6])
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
redis.call('HSET', to, '$l', nowS, '$o', nowS)
local eS = redis.call('HGET', to, '$e')
local extended = 0
local newE, newS = extension(e, a, aS, before, target, ARGV[3])
if newE then
  e, eS, extended = newE, newS, 1
  redis.call('HSET', to, '$e', eS)
end
redis.call('PEXPIRE', to, int(math.max(e - now, 1)))
local aliasFor = math.max(math.min(grace, e - now), 1)
redis.call('DEL', from)
redis.call('HSET', from, '$mv', toId, '$e', int(now + aliasFor))
redis.call('PEXPIRE', from, int(aliasFor))
redis.call('ZREM', idx, fromId)
redis.call('ZADD', idx, eS, toId)
touchIndex(idx, nowS)
return { eS, extended }
`

/**
 * `updateUser`. KEYS: user index, [acting session]. ARGV: now, roles (JSON, '' to keep),
 * methods to revoke (JSON, '' for none), id to leave out ('' for none).
 * Sets `$r` and adds to `$x` (revoked methods) on every live session of the user but the one
 * left out. Returns how many, or {@link NOT_LIVE} (nothing changed).
 */
const UPDATE_USER = `
local idx = KEYS[1]
local now = tonumber(ARGV[1])
if KEYS[2] and not acting(KEYS[2], now) then return ${NOT_LIVE} end
local revoke = ARGV[3] ~= '' and cjson.decode(ARGV[3]) or nil
local n = 0
for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local k = idx .. ':' .. m
  if m ~= ARGV[4] and state(k, now) == 'live' then
    if ARGV[2] ~= '' then redis.call('HSET', k, '$r', ARGV[2]) end
    if revoke then
      local list, seen = {}, {}
      local ok, cur = pcall(cjson.decode, redis.call('HGET', k, '$x') or '[]')
      for _, v in ipairs(ok and type(cur) == 'table' and cur or {}) do
        if type(v) == 'string' and not seen[v] then
          list[#list + 1], seen[v] = v, true
        end
      end
      for _, v in ipairs(revoke) do
        if not seen[v] then list[#list + 1], seen[v] = v, true end
      end
      redis.call('HSET', k, '$x', cjson.encode(list))
    end
    n = n + 1
  end
end
return n
`

/**
 * `hit`. KEYS: counter, [acting session]. ARGV: windowMs, by, limit ('' none), now.
 * A fixed-window counter: adds `by` (0 reads, negative gives back) and starts the window when
 * the counter has none; a counter given back to 0 is deleted. With a limit, an addition that
 * would take the count above it is refused and changes nothing. Returns `[count, allowed (0|1), ms left in the window]`, or
 * {@link NOT_LIVE}.
 */
const HIT = `
if KEYS[2] and not acting(KEYS[2], tonumber(ARGV[4])) then return ${NOT_LIVE} end
local by, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
local allowed = 1
if limit and by > 0 and c + by > limit then
  allowed = 0
else
  c = redis.call('INCRBY', KEYS[1], ARGV[2])
  -- everything given back: no counter is left behind
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
`

/**
 * \`claim\`. KEYS: marker, [acting session]. ARGV: ttlMs, now. Returns 1 when newly set, 0 when
 * it already existed, or {@link NOT_LIVE}.
 */
const CLAIM = `
if KEYS[2] and not acting(KEYS[2], tonumber(ARGV[2])) then return ${NOT_LIVE} end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
`

/**
 * \`userValue\`. KEYS: value key, [acting session]. ARGV: 'get' | 'set' | 'del', now, [value].
 * Returns what GET, SET or DEL return, or {@link NOT_LIVE} (as a table, so that it cannot be
 * told apart from a stored value).
 */
const USER_VALUE = `
if KEYS[2] and not acting(KEYS[2], tonumber(ARGV[2])) then return { ${NOT_LIVE} } end
if ARGV[1] == 'get' then return redis.call('GET', KEYS[1]) end
if ARGV[1] == 'set' then return redis.call('SET', KEYS[1], ARGV[3]) end
return redis.call('DEL', KEYS[1])
`

/** A script: its name (for error messages) and its full source. */
export interface LuaScript {
  readonly name: string
  readonly source: string
}

const script = (name: string, body: string): LuaScript => ({ name, source: PRELUDE + body })

/** Every script, by store operation. */
export const SCRIPTS = {
  load: script('load', LOAD),
  commit: script('commit', COMMIT),
  create: script('create', CREATE),
  destroy: script('destroy', DESTROY),
  destroyUser: script('destroyUser', DESTROY_USER),
  listUser: script('listUser', LIST_USER),
  rotate: script('rotate', ROTATE),
  updateUser: script('updateUser', UPDATE_USER),
  hit: script('hit', HIT),
  claim: script('claim', CLAIM),
  userValue: script('userValue', USER_VALUE),
} as const satisfies Record<string, LuaScript>
