// The Lua scripts behind the Redis request log: each runs atomically in Redis, so two hooklab
// instances appending to one bin at once see one order, one numbering and exact caps. Bodies
// never pass through a script (a 1 MiB argument would hold Redis for milliseconds): the body
// is SET under a staging key in the same MULTI, and the append script RENAMEs it (O(1)).
//
// Every script gets the key prefix as ARGV[1] and derives key names from it (layout: see
// redis-store.ts), so they suit a standalone Redis (or a primary with replicas), not Cluster.
//
// On the hot path (APPEND, and drop() for its evictions) numbers go to redis.call as strings
// where they arrive as strings (a Lua number is formatted with snprintf("%.17g") per
// argument), and each redis.call counts (every write is also written to the AOF): a
// capture's body size is its length (STRLEN), not a count kept beside it (its head's is,
// in ':headbytes': the metadata JSON, annotated later, is no fixed measure). Existence is
// checked on a bin's ':meta' hash (a hash table: a lookup of a new id is O(1)).

/** Helpers shared by the scripts that change captures. */
const PRELUDE = `
local P = ARGV[1]
local function binKey(b) return P .. 'bin:' .. b end
local function bodyKey(b, id) return P .. 'body:' .. b .. ':' .. id end
local function first(b) return redis.call('ZRANGE', binKey(b) .. ':ids', 0, 0)[1] end
-- P..'heads' (score 0, so in id order) holds a member "id binId" for every non-empty bin,
-- whose id is no newer than the bin's oldest, and the bin's hash names it (field 'head'). It
-- is kept up to date lazily: set when an append makes a capture its bin's oldest, left as it
-- is when the oldest goes (the cap, a deletion), and brought up to date by the byte budget's
-- loop (in APPEND) when it comes first. So an append to a full bin does not touch it.
-- Make id, now bin b's oldest, its member.
local function newHead(b, id)
  local k = binKey(b)
  local was = redis.call('HGET', k, 'head')
  if was then redis.call('ZREM', P .. 'heads', was .. ' ' .. b) end
  redis.call('ZADD', P .. 'heads', '0', id .. ' ' .. b)
  redis.call('HSET', k, 'head', id)
end
-- Forget bin b's member (it is being emptied or deleted).
local function noHead(b)
  local k = binKey(b)
  local was = redis.call('HGET', k, 'head')
  if was then
    redis.call('ZREM', P .. 'heads', was .. ' ' .. b)
    redis.call('HDEL', k, 'head')
  end
end
-- Remove one capture's records and body, but not its id from the bin's list nor its bytes
-- from the counts (the caller does). Answers its size (its body's bytes and its head's: see
-- APPEND), nil if not stored.
local function unstore(b, id)
  local k = binKey(b)
  if redis.call('HDEL', k .. ':meta', id) == 0 then return nil end
  redis.call('HDEL', k .. ':items', id)
  local bk = bodyKey(b, id)
  local n = redis.call('STRLEN', bk)
  redis.call('UNLINK', bk)
  -- (None for a capture stored by a build that counted bodies only: it counted none.)
  local h = redis.call('HGET', k .. ':headbytes', id)
  if h then
    redis.call('HDEL', k .. ':headbytes', id)
    n = n + tonumber(h)
  end
  return n
end
-- Remove one capture, body included (its bin's member in P..'heads' may fall behind).
-- False when not stored.
local function drop(b, id)
  local n = unstore(b, id)
  if not n then return false end
  local k = binKey(b)
  redis.call('ZREM', k .. ':ids', id)
  if n ~= 0 then
    local d = string.format('%d', n)
    redis.call('HINCRBY', k, 'bytes', '-' .. d)
    redis.call('DECRBY', P .. 'bytes', d)
  end
  return true
end
`;

/** Fields per capture in APPEND's arguments. */
export const APPEND_FIELDS = 10;

/** Feed entries an append run answers at most besides its own (see "Following the feed"). */
export const FEED_SCAN_MAX = 1000;

/** Base36, left-padded: the sortable id format of server/ids.ts. */
const BASE36 = `
local DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local function b36(n, width)
  local s = ''
  repeat
    local d = n % 36
    s = string.sub(DIGITS, d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  while #s < width do s = '0' .. s end
  return s
end
`;

/**
 * Append captures whose bodies are already SET under their staging keys, in the order given:
 * each as if by a script of its own (one failing fails alone), in one run.
 * ARGV: prefix, byte budget (-1: none), the capture feed's length (0: no feed), the
 * appending instance's tag (for the feed), the instance's feed position ('': it does not
 * follow the feed through its appends); then 9 per capture (APPEND_FIELDS): staging key,
 * binId, id ('' = assign one here), random tail (for an assigned id), the metadata JSON and
 * the list row JSON without id and seq (their text after the opening brace: ',"binId":…}'
 * or '}'), body bytes, per-bin cap, a guard: '' (none), or '=' and the version of the
 * bin's response settings its answer was decided with ('' none; see AppendGuard in
 * ../types.ts), checked against the plan hash P..'plan:'..b that the response control keeps
 * (control/redis-control.ts); and its head's bytes (../head-bytes.ts), which the byte counts
 * and budget take with its body's (kept in P..'bin:'..b..':headbytes' for when it goes).
 * Answers one result per capture: nil when the bin does not exist (the staged body is
 * dropped: a capture for a bin deleted meanwhile is never stored, whatever the instance
 * believed), 0 when the guard does not hold (nothing stored, the staged body dropped),
 * { nil, error } when it failed, else { id, seq, bin1, evicted1, bin2, evicted2, … } in
 * eviction order.
 *
 * The capture feed (P..'feed', a stream) gets one entry per capture, in the same step: the
 * bin, the list row, what was evicted and which instance appended it. Instances read it to
 * tell their live viewers (so every viewer of a bin sees its captures in one order,
 * whichever instance received them) and their wait-API waiters of captures made elsewhere.
 *
 * Following the feed: given the instance's feed position, the run also answers, as a last
 * result, { start, entries, entry ids, truncated }: every feed entry after `start` (all
 * instances'; at most FEED_SCAN_MAX, then truncated is 1) followed, in the stream, by this
 * run's own entries (their ids, per capture, '' for one not stored). `start` is the caller's
 * position, or this instance's last entry written by an earlier run (P..'feedpos:'..tag)
 * when newer: whatever lies before that, the earlier run answered. So, with the entries
 * the run wrote (the caller knows their rows), the answer is the whole feed in (start, last
 * entry]: an instance that appends learns of other instances' captures, in order, without
 * reading its own back (see server/cluster/capture-feed.ts).
 *
 * An assigned id is server/ids.ts's format from Redis's clock (TIME, read once per run) and
 * one counter for the store (P..'idclock' = "ms:counter"): ids increase in the order
 * appends run here, whichever instance sent them, so a bin's id order is its arrival order.
 *
 * What one run reads once for all its captures (the clock; whether a bin exists, its
 * settings' version) cannot change under it: a script runs alone.
 */
export const APPEND = `${PRELUDE}${BASE36}
local budget, feedLen, origin, followAt = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local feeding = tonumber(feedLen) > 0
-- Stream ids 'ms-seq': a < b.
local function idLess(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, bm = tonumber(am), tonumber(bm)
  return am < bm or (am == bm and tonumber(as) < tonumber(bs))
end
-- The feed range this run answers (see "Following the feed" above): from the caller's
-- position, or from its own last entry when that is newer (what lies before it, an earlier
-- run's answer covered).
local feedStart, feedSeen, eid, lastEid = false, nil, '', false
local entryIds = {}
if feeding and followAt ~= '' then
  local posKey = P .. 'feedpos:' .. origin
  local mine = redis.call('GET', posKey)
  feedStart = followAt
  if mine and idLess(feedStart, mine) then feedStart = mine end
  feedSeen = redis.call('XRANGE', P .. 'feed', '(' .. feedStart, '+', 'COUNT', ${FEED_SCAN_MAX})
end
local lastMs, counter, now, clockUsed
local function nextId(tail)
  if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    lastMs, counter = 0, 0
    local last = redis.call('GET', P .. 'idclock')
    if last then
      local a, c = string.match(last, '^(%d+):(%d+)$')
      lastMs, counter = tonumber(a), tonumber(c)
    end
  end
  local ms = now
  if ms <= lastMs then
    ms = lastMs
    counter = counter + 1
    if counter >= 1679616 then
      ms = lastMs + 1
      counter = 0
    end
  else
    counter = 0
  end
  lastMs = ms
  return b36(ms, 9) .. b36(counter, 4) .. tail
end
local bins, versions = {}, {}
-- P..'bytes' as this run last read or set it (only this run changes it while it runs): a
-- capture that evicts one of its own size leaves it as it was, and is not read again.
local storeBytes
local function binExists(b)
  if bins[b] == nil then bins[b] = redis.call('HEXISTS', P .. 'bins', b) == 1 end
  return bins[b]
end
local function versionOf(b)
  if versions[b] == nil then versions[b] = redis.call('HGET', P .. 'plan:' .. b, 'v') or '' end
  return versions[b]
end

local function append(a)
  local tmp, b, id, guard = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 8]
  if not binExists(b) then
    redis.call('UNLINK', tmp)
    return false
  end
  if guard ~= '' and versionOf(b) ~= string.sub(guard, 2) then
    redis.call('UNLINK', tmp)
    return 0
  end
  local k = binKey(b)
  local fresh = id == ''
  if fresh then
    -- New by construction (the clock and counter never give one twice): not looked up.
    id = nextId(ARGV[a + 3])
  elseif redis.call('HEXISTS', k .. ':meta', id) == 1 then
    redis.call('UNLINK', tmp)
    return { false, 'ERR hooklab: a capture with this id is already stored' }
  end
  local bk = bodyKey(b, id)
  -- The first write: the staged body becomes the capture's (when it is missing, nothing changed).
  if redis.pcall('RENAME', tmp, bk)['err'] then return { false, 'ERR hooklab: the staged body is missing' } end
  if fresh then clockUsed = true end
  local bytes, headBytes = ARGV[a + 6], ARGV[a + 9]
  local seq = redis.call('HINCRBY', k, 'seq', '1')
  redis.call('ZADD', k .. ':ids', '0', id)
  -- The bin's oldest now (its first capture, or one older than all it holds): its new head.
  if redis.call('ZRANK', k .. ':ids', id) == 0 then newHead(b, id) end
  local head = '{"id":' .. cjson.encode(id) .. ',"seq":' .. string.format('%d', seq)
  local row = head .. ARGV[a + 5]
  redis.call('HSET', k .. ':meta', id, head .. ARGV[a + 4])
  redis.call('HSET', k .. ':items', id, row)
  if headBytes ~= '0' then redis.call('HSET', k .. ':headbytes', id, headBytes) end
  local out = { id, seq }
  -- Over the cap: the bin's oldest go (ZPOPMIN: the first id), their bytes netted with the
  -- new capture's in one update of each count.
  local over = redis.call('ZCARD', k .. ':ids') - tonumber(ARGV[a + 7])
  local delta = tonumber(bytes) + tonumber(headBytes)
  while over > 0 do
    local old = redis.call('ZPOPMIN', k .. ':ids')[1]
    delta = delta - (unstore(b, old) or 0)
    out[#out + 1] = b
    out[#out + 1] = old
    over = over - 1
  end
  if delta ~= 0 then
    local d = string.format('%d', delta)
    redis.call('HINCRBY', k, 'bytes', d)
    storeBytes = redis.call('INCRBY', P .. 'bytes', d)
  end
  if budget >= 0 then
    storeBytes = storeBytes or tonumber(redis.call('GET', P .. 'bytes') or '0')
    local total = storeBytes
    -- The store's oldest go first: the first member of P..'heads', once it is up to date.
    while total > budget do
      local m = redis.call('ZRANGE', P .. 'heads', 0, 0)[1]
      if not m then break end
      local sp = string.find(m, ' ', 1, true)
      local hid, hb = string.sub(m, 1, sp - 1), string.sub(m, sp + 1)
      local oldest = first(hb)
      if oldest ~= hid then
        -- Behind (its oldest went since): move it up to the bin's oldest, or away.
        if oldest then newHead(hb, oldest) else noHead(hb) end
        redis.call('ZREM', P .. 'heads', m)
      else
        if hid == id and hb == b then break end
        drop(hb, hid)
        out[#out + 1] = hb
        out[#out + 1] = hid
        total = tonumber(redis.call('GET', P .. 'bytes'))
        storeBytes = total
      end
    end
  end
  if feeding then
    local evicted = {}
    for i = 3, #out do evicted[#evicted + 1] = out[i] end
    eid = redis.call('XADD', P .. 'feed', 'MAXLEN', '~', feedLen, '*', 'b', b, 'i', row, 'e', table.concat(evicted, ' '), 'o', origin)
    lastEid = eid
  end
  return out
end

local results = {}
for a = 6, #ARGV, ${APPEND_FIELDS} do
  eid = ''
  local ok, r = pcall(append, a)
  if not ok then
    r = { false, type(r) == 'table' and r.err or tostring(r) }
    -- Staged bodies have no expiry: one its append did not take goes now.
    redis.call('UNLINK', ARGV[a])
    storeBytes = nil -- (it may have failed between a change and its read)
  end
  results[#results + 1] = r
  entryIds[#entryIds + 1] = eid
end
if clockUsed then redis.call('SET', P .. 'idclock', string.format('%d:%d', lastMs, counter)) end
if feedStart then
  -- A day: an instance's tag is new at every start; a stale one's key goes by itself.
  if lastEid then redis.call('SET', P .. 'feedpos:' .. origin, lastEid, 'PX', 86400000) end
  results[#results + 1] = { feedStart, feedSeen, entryIds, #feedSeen >= ${FEED_SCAN_MAX} and 1 or 0 }
end
return results
`;

/**
 * Look for captures whose appends went unanswered (see in-doubt.ts): read only.
 * ARGV: prefix, ids looked at per lookup at most (ids below the floor are never looked at);
 * then 6 per lookup: binId, id ('' : Redis was to assign it), the random tail sent for it,
 * a window in ms (the floor is Redis's clock now less it: no later than when the append could
 * have run), its receivedAt as JSON text, and where the scan goes on ('' : from the newest).
 * A capture is the one looked for when its id ends with the tail (or is the id) and its
 * metadata has that receivedAt. Answers per lookup { 1, id } (found), { 0 } (not stored),
 * or { 2, cursor } (not found yet: go on below cursor); then the capture feed's last entry
 * id ('' : none), which a capture found was fed before.
 */
export const FIND_APPENDED = `${BASE36}
local P, limit = ARGV[1], tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for a = 3, #ARGV, 6 do
  local k = P .. 'bin:' .. ARGV[a]
  local id, tail, mark, cursor = ARGV[a + 1], ARGV[a + 2], '"receivedAt":' .. ARGV[a + 4], ARGV[a + 5]
  local function is(x)
    local m = redis.call('HGET', k .. ':meta', x)
    return m and string.find(m, mark, 1, true) ~= nil
  end
  local r
  if id ~= '' then
    if is(id) then r = { 1, id } else r = { 0 } end
  else
    local floor = b36(math.max(0, now - tonumber(ARGV[a + 3])), 9)
    local hi = cursor ~= '' and ('(' .. cursor) or '+'
    local ids = redis.call('ZRANGE', k .. ':ids', hi, '[' .. floor, 'BYLEX', 'REV', 'LIMIT', 0, limit)
    for i = 1, #ids do
      local x = ids[i]
      if string.sub(x, -#tail) == tail and is(x) then
        r = { 1, x }
        break
      end
    end
    if not r then
      if #ids < limit then r = { 0 } else r = { 2, ids[#ids] } end
    end
  end
  out[#out + 1] = r
end
local top = redis.call('XREVRANGE', P .. 'feed', '+', '-', 'COUNT', 1)[1]
out[#out + 1] = top and top[1] or ''
return out
`;

/**
 * ARGV: prefix, binId, id. Answers 1 when it was stored.
 *
 * Deletions run at maxmemory too (that is how memory comes back): Redis runs a script without
 * flags (no shebang, as every script here: Redis 6.2 knows none) when out of memory, and
 * refuses a write that needs memory (HSET, INCR, …) only as the script's first write. So
 * DELETE, EMPTY_BIN and PURGE each write first with one that frees (HDEL, ZREM, ZPOPMIN),
 * and what they add (a purge list's name and number) is small beside what they free.
 */
export const DELETE = `${PRELUDE}
local b, id = ARGV[2], ARGV[3]
if not drop(b, id) then return 0 end
return 1
`;

/**
 * Empty a bin ('clear': its numbering stays) or delete it with everything it held ('drop':
 * the bin record too). ARGV: prefix, binId, mode. The bin's list moves to P..'purge:<n>' in
 * one step (O(1)), so the captures are gone at once and the byte count drops by the bin's
 * bytes; their bodies are then deleted a chunk at a time by PURGE, outside this script.
 * Answers { found (0/1), captures removed, n of the purge list or '' }.
 */
export const EMPTY_BIN = `${PRELUDE}
local b, mode = ARGV[2], ARGV[3]
local k = binKey(b)
if mode == 'drop' then
  if redis.call('HDEL', P .. 'bins', b) == 0 then return { 0, 0, '' } end
  redis.call('ZREM', P .. 'bins:order', b)
end
local n = redis.call('ZCARD', k .. ':ids')
noHead(b)
local purge = ''
if n > 0 then
  -- (The member builds before this one kept, named by no 'head' field: the bin's oldest.)
  redis.call('ZREM', P .. 'heads', first(b) .. ' ' .. b)
  purge = tostring(redis.call('INCR', P .. 'purge:next'))
  redis.call('RENAME', k .. ':ids', P .. 'purge:' .. purge)
  redis.call('SADD', P .. 'purge', purge .. ' ' .. b)
  -- (':sizes': where builds before kept the bodies' lengths.)
  redis.call('UNLINK', k .. ':meta', k .. ':items', k .. ':headbytes', k .. ':sizes')
  redis.call('DECRBY', P .. 'bytes', tonumber(redis.call('HGET', k, 'bytes') or '0'))
end
-- (HDEL, not HSET to 0: a missing count is 0 to every reader, and HSET, a write Redis refuses
-- at maxmemory, would be this run's first write when the bin was empty already.)
if mode == 'drop' then redis.call('DEL', k) else redis.call('HDEL', k, 'bytes') end
return { 1, n, purge }
`;

/**
 * Delete up to ARGV[4] bodies of purge list ARGV[2] (bin ARGV[3]); a body whose id is stored
 * again meanwhile is left alone. Answers 1 while some remain, 0 once the list is done.
 */
export const PURGE = `${PRELUDE}
local list, b = P .. 'purge:' .. ARGV[2], ARGV[3]
local ids = redis.call('ZPOPMIN', list, tonumber(ARGV[4]))
local meta = binKey(b) .. ':meta'
for i = 1, #ids, 2 do
  if redis.call('HEXISTS', meta, ids[i]) == 0 then redis.call('UNLINK', bodyKey(b, ids[i])) end
end
if redis.call('EXISTS', list) == 1 then return 1 end
redis.call('SREM', P .. 'purge', ARGV[2] .. ' ' .. b)
return 0
`;

/**
 * Replace a capture's metadata and list row if its metadata is still what was read (the
 * SHA-1 of it): a compare-and-set, so concurrent annotations (two instances) never overwrite
 * each other; the loser reads again and retries. ARGV: prefix, binId, id, sha1, metadata,
 * list row. Answers 1 (done), 0 (changed meanwhile: retry), -1 (no longer stored).
 */
export const ANNOTATE = `
local k = ARGV[1] .. 'bin:' .. ARGV[2]
local cur = redis.call('HGET', k .. ':meta', ARGV[3])
if not cur then return -1 end
if redis.sha1hex(cur) ~= ARGV[4] then return 0 end
redis.call('HSET', k .. ':meta', ARGV[3], ARGV[5])
redis.call('HSET', k .. ':items', ARGV[3], ARGV[6])
return 1
`;

/**
 * Start-up (MAX_REQUESTS_PER_BIN lowered since): each bin named (ARGV[4]…) keeps its newest
 * ARGV[2], the rest go, oldest first, at most ARGV[3] in this run (a run stays short however
 * much was stored). ARGV: prefix, cap, most to remove, binIds. Answers { bytes freed, more
 * (1: stopped at the most: run again), bin1, id1, bin2, id2, … }. Its first write frees
 * (ZPOPMIN: see DELETE); bins' members in P..'heads' fall behind, as the append's cap leaves them.
 */
export const TRIM_BINS = `${PRELUDE}
local cap, left = tonumber(ARGV[2]), tonumber(ARGV[3])
local out = { 0, 0 }
for a = 4, #ARGV do
  if left <= 0 then
    out[2] = 1
    break
  end
  local b = ARGV[a]
  local k = binKey(b)
  local excess = redis.call('ZCARD', k .. ':ids') - cap
  local over = math.min(excess, left)
  -- Stopped at the most with this bin still over (the last one named, say): run again.
  if excess > over then out[2] = 1 end
  if over > 0 then
    local popped = redis.call('ZPOPMIN', k .. ':ids', over)
    local freed = 0
    for i = 1, #popped, 2 do
      freed = freed + (unstore(b, popped[i]) or 0)
      out[#out + 1] = b
      out[#out + 1] = popped[i]
    end
    if freed ~= 0 then
      local d = string.format('%d', freed)
      redis.call('HINCRBY', k, 'bytes', '-' .. d)
      redis.call('DECRBY', P .. 'bytes', d)
    end
    out[1] = out[1] + freed
    left = left - over
  end
end
return out
`;

/**
 * Start-up (MAX_STORE_BYTES lowered since): the store's oldest captures go until it holds no
 * more than ARGV[2] bytes, as APPEND's budget loop takes them, at most ARGV[3] steps in this
 * run. ARGV: prefix, budget, most steps. Answers { bytes freed, more (1: run again), bin1,
 * id1, … }.
 */
export const TRIM_BUDGET = `${PRELUDE}
local budget, left = tonumber(ARGV[2]), tonumber(ARGV[3])
local out = { 0, 0 }
local start = tonumber(redis.call('GET', P .. 'bytes') or '0')
local total = start
while total > budget do
  if left <= 0 then
    out[2] = 1
    break
  end
  left = left - 1
  local m = redis.call('ZRANGE', P .. 'heads', 0, 0)[1]
  if not m then break end
  local sp = string.find(m, ' ', 1, true)
  local hid, hb = string.sub(m, 1, sp - 1), string.sub(m, sp + 1)
  local oldest = first(hb)
  if oldest ~= hid then
    -- Behind (its oldest went since): move it up to the bin's oldest, or away.
    if oldest then newHead(hb, oldest) else noHead(hb) end
    redis.call('ZREM', P .. 'heads', m)
  else
    -- (Listed without its records, it goes from the list all the same: else it would come first again.)
    if drop(hb, hid) then
      out[#out + 1] = hb
      out[#out + 1] = hid
    else
      redis.call('ZREM', binKey(hb) .. ':ids', hid)
    end
    total = tonumber(redis.call('GET', P .. 'bytes') or '0')
  end
end
out[1] = start - total
return out
`;

/** HMGET in chunks (Lua's unpack has a stack limit). */
const HMGET_ALL = `
local function hmgetAll(key, ids)
  local out = {}
  for i = 1, #ids, 1000 do
    local part = redis.call('HMGET', key, unpack(ids, i, math.min(i + 999, #ids)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end
`;

/**
 * A page of a bin: ARGV: prefix, binId, 'meta' | 'items', before ('' none), after ('' none),
 * limit (-1 all), oldest first ('1'/'0'). Ids sort by arrival: the bin's sorted set has one
 * score, so BYLEX ranges are id ranges (a cursor evicted long ago still works).
 */
export const PAGE = `${HMGET_ALL}
local k = ARGV[1] .. 'bin:' .. ARGV[2]
local hi = ARGV[4] ~= '' and ('(' .. ARGV[4]) or '+'
local lo = ARGV[5] ~= '' and ('(' .. ARGV[5]) or '-'
local ids
if ARGV[7] == '1' then
  ids = redis.call('ZRANGE', k .. ':ids', lo, hi, 'BYLEX', 'LIMIT', 0, ARGV[6])
else
  ids = redis.call('ZRANGE', k .. ':ids', hi, lo, 'BYLEX', 'REV', 'LIMIT', 0, ARGV[6])
end
if #ids == 0 then return {} end
return hmgetAll(k .. ':' .. ARGV[3], ids)
`;

/** ARGV: prefix, binId. Answers { count } or { count, oldest id, newest list row }. */
export const STATS = `
local k = ARGV[1] .. 'bin:' .. ARGV[2]
local n = redis.call('ZCARD', k .. ':ids')
if n == 0 then return { 0 } end
local oldest = redis.call('ZRANGE', k .. ':ids', 0, 0)[1]
local newest = redis.call('ZRANGE', k .. ':ids', -1, -1)[1]
return { n, oldest, redis.call('HGET', k .. ':items', newest) }
`;

export const REQUEST_SCRIPTS = {
  hlAppend: APPEND,
  hlDelete: DELETE,
  hlEmptyBin: EMPTY_BIN,
  hlPurge: PURGE,
  hlAnnotate: ANNOTATE,
  hlPage: PAGE,
  hlStats: STATS,
  hlFindAppended: FIND_APPENDED,
  hlTrimBins: TRIM_BINS,
  hlTrimBudget: TRIM_BUDGET,
} as const;

export { HMGET_ALL };
