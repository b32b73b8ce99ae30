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
// argument), and existence is checked on a bin's ':meta' hash (a hash table) rather than
// ':sizes' (small values: Redis keeps it a listpack up to hash-max-listpack-entries, which
// a lookup of a new id scans whole). Both always hold the same ids.

/** Helpers shared by the scripts that change captures. */
const PRELUDE = `
local P = ARGV[1]
local function binKey(b) return P .. 'bin:' .. b end
local function bodyKey(b, id) return P .. 'body:' .. b .. ':' .. id end
local function first(b) return redis.call('ZRANGE', binKey(b) .. ':ids', 0, 0)[1] end
-- P..'heads' holds "oldestId binId" for every non-empty bin: its first member is the oldest
-- capture of the store. Call after bin b's oldest may have changed from \`was\`.
local function rehead(b, was)
  local now = first(b)
  if now == was then return end
  if was then redis.call('ZREM', P .. 'heads', was .. ' ' .. b) end
  if now then redis.call('ZADD', P .. 'heads', '0', now .. ' ' .. b) end
end
-- Remove one capture's records and body, but not its id from the bin's list nor its bytes
-- from the counts (the caller does). Answers its size (the string stored), nil if not stored.
local function unstore(b, id)
  local k = binKey(b)
  local n = redis.call('HGET', k .. ':sizes', id)
  if not n then return nil end
  redis.call('HDEL', k .. ':meta', id)
  redis.call('HDEL', k .. ':items', id)
  redis.call('HDEL', k .. ':sizes', id)
  redis.call('UNLINK', bodyKey(b, id))
  return n
end
-- Remove one capture, body included (the caller fixes the head). False when not stored.
local function drop(b, id)
  local n = unstore(b, id)
  if not n then return false end
  local k = binKey(b)
  redis.call('ZREM', k .. ':ids', id)
  if n ~= '0' then
    redis.call('HINCRBY', k, 'bytes', '-' .. n)
    redis.call('DECRBY', P .. 'bytes', n)
  end
  return true
end
`;

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
 * Append one capture whose body is already SET under the staging key ARGV[2].
 * ARGV: prefix, staging key, binId, id ('' = assign one here), random tail (for an assigned
 * id), the metadata JSON and the list row JSON without id and seq (their text after the
 * opening brace: ',"binId":…}' or '}'), body bytes, per-bin cap, byte budget (-1: none),
 * the capture feed's length (0: no feed), the appending instance's tag (for the feed).
 * Answers nil when the bin does not exist (the staged body is dropped: a capture for a bin
 * deleted meanwhile is never stored, whatever the instance believed), else
 * { id, seq, bin1, evicted1, bin2, evicted2, … } in eviction order.
 *
 * The capture feed (P..'feed', a stream) gets one entry per append, in the same step: the
 * bin, the list row, what was evicted and which instance appended it. Instances read it to
 * tell their live viewers (so every viewer of a bin sees its captures in one order,
 * whichever instance received them) and their wait-API waiters of captures made elsewhere.
 *
 * An assigned id is server/ids.ts's format from Redis's clock (TIME) and one counter for
 * the store (P..'idclock' = "ms:counter"): ids increase in the order appends run here,
 * whichever instance sent them, so a bin's id order is its arrival order.
 */
export const APPEND = `${PRELUDE}${BASE36}
local tmp, b, id = ARGV[2], ARGV[3], ARGV[4]
if redis.call('HEXISTS', P .. 'bins', b) == 0 then
  redis.call('UNLINK', tmp)
  return false
end
if redis.call('EXISTS', tmp) == 0 then return redis.error_reply('ERR hooklab: the staged body is missing') end
local k = binKey(b)
if id == '' then
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local lastMs, counter = 0, 0
  local last = redis.call('GET', P .. 'idclock')
  if last then
    local a, c = string.match(last, '^(%d+):(%d+)$')
    lastMs, counter = tonumber(a), tonumber(c)
  end
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
  redis.call('SET', P .. 'idclock', string.format('%d:%d', ms, counter))
  id = b36(ms, 9) .. b36(counter, 4) .. ARGV[5]
end
if redis.call('HEXISTS', k .. ':meta', id) == 1 then
  redis.call('UNLINK', tmp)
  return redis.error_reply('ERR hooklab: a capture with this id is already stored')
end
local bytes = ARGV[8]
local seq = redis.call('HINCRBY', k, 'seq', '1')
local was = first(b)
local bk = bodyKey(b, id)
redis.call('RENAME', tmp, bk)
redis.call('PERSIST', bk)
redis.call('ZADD', k .. ':ids', '0', id)
local head = '{"id":' .. cjson.encode(id) .. ',"seq":' .. string.format('%d', seq)
redis.call('HSET', k .. ':meta', id, head .. ARGV[6])
redis.call('HSET', k .. ':items', id, head .. ARGV[7])
redis.call('HSET', k .. ':sizes', id, bytes)
local out = { id, seq }
-- Over the cap: the bin's oldest go (ZPOPMIN: the first id), their bytes netted with the
-- new capture's in one update of each count.
local cap = tonumber(ARGV[9])
local over = redis.call('ZCARD', k .. ':ids') - cap
local delta = tonumber(bytes)
while over > 0 do
  local old = redis.call('ZPOPMIN', k .. ':ids')[1]
  delta = delta - tonumber(unstore(b, old) or '0')
  out[#out + 1] = b
  out[#out + 1] = old
  over = over - 1
end
if delta ~= 0 then
  local d = string.format('%d', delta)
  redis.call('HINCRBY', k, 'bytes', d)
  redis.call('INCRBY', P .. 'bytes', d)
end
rehead(b, was)
local budget = tonumber(ARGV[10])
if budget >= 0 then
  while tonumber(redis.call('GET', P .. 'bytes')) > budget do
    local h = redis.call('ZRANGE', P .. 'heads', 0, 0)[1]
    if not h then break end
    local sp = string.find(h, ' ', 1, true)
    local hid, hb = string.sub(h, 1, sp - 1), string.sub(h, sp + 1)
    if hid == id and hb == b then break end
    drop(hb, hid)
    rehead(hb, hid)
    out[#out + 1] = hb
    out[#out + 1] = hid
  end
end
local feed = tonumber(ARGV[11] or '0')
if feed > 0 then
  local evicted = {}
  for i = 3, #out do evicted[#evicted + 1] = out[i] end
  redis.call('XADD', P .. 'feed', 'MAXLEN', '~', ARGV[11], '*', 'b', b, 'i', head .. ARGV[7], 'e', table.concat(evicted, ' '), 'o', ARGV[12] or '')
end
return out
`;

/** ARGV: prefix, binId, id. Answers 1 when it was stored. */
export const DELETE = `${PRELUDE}
local b, id = ARGV[2], ARGV[3]
local was = first(b)
if not drop(b, id) then return 0 end
rehead(b, was)
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
local purge = ''
if n > 0 then
  redis.call('ZREM', P .. 'heads', first(b) .. ' ' .. b)
  purge = tostring(redis.call('INCR', P .. 'purge:next'))
  redis.call('RENAME', k .. ':ids', P .. 'purge:' .. purge)
  redis.call('SADD', P .. 'purge', purge .. ' ' .. b)
  redis.call('UNLINK', k .. ':meta', k .. ':items', k .. ':sizes')
  redis.call('DECRBY', P .. 'bytes', tonumber(redis.call('HGET', k, 'bytes') or '0'))
end
if mode == 'drop' then redis.call('DEL', k) else redis.call('HSET', k, 'bytes', 0) end
return { 1, n, purge }
`;

/**
 * Delete up to ARGV[4] bodies of purge list ARGV[2] (bin ARGV[3]); a body whose id is stored
 * again meanwhile is left alone. Answers 1 while some remain, 0 once the list is done.
 */
export const PURGE = `${PRELUDE}
local list, b = P .. 'purge:' .. ARGV[2], ARGV[3]
local ids = redis.call('ZPOPMIN', list, tonumber(ARGV[4]))
local sizes = binKey(b) .. ':sizes'
for i = 1, #ids, 2 do
  if redis.call('HEXISTS', sizes, ids[i]) == 0 then redis.call('UNLINK', bodyKey(b, ids[i])) end
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
} as const;

export { HMGET_ALL };
