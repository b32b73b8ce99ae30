// The Lua scripts behind the Redis collections (bins, webhooks, runs, deliveries, …). A
// collection `base` is a hash id -> JSON, plus base..':order' (a sorted set scored by first
// insertion, from the counter base..':next') so list() is oldest first, as the memory driver's
// Map order is. ARGV[1] is always the collection's base key.
import { HMGET_ALL } from './request-scripts.ts';

/**
 * A fence: writes made for the dispatcher carry the lease key and the epoch it was elected
 * with, and are refused once another instance holds the lease, so an instance that stalled
 * past its lease cannot record late results. ('' for both: no fence.)
 */
const FENCE = `
local function fenced(key, epoch)
  if key == nil or key == '' then return end
  local v = redis.call('GET', key)
  if not v or string.sub(v, 1, #epoch + 1) ~= epoch .. ' ' then
    error({ err = 'ERR hooklab: fenced: another instance runs the dispatcher now' })
  end
end
`;

const ORDER = `${FENCE}
local function insert(base, id, json)
  redis.call('HSET', base, id, json)
  local score = redis.call('ZSCORE', base .. ':order', id)
  if not score then
    score = redis.call('INCR', base .. ':next')
    redis.call('ZADD', base .. ':order', score, id)
  end
  return score
end
`;

/** ARGV: base, id, json, fence key, fence epoch. */
export const COLL_PUT = `${ORDER}
fenced(ARGV[4], ARGV[5])
insert(ARGV[1], ARGV[2], ARGV[3])
return 1
`;

/** ARGV: base, id, json, max. Answers 'created', or 'exists' / 'full' having changed nothing (see Creatable). */
export const COLL_CREATE = `${ORDER}
local base, id = ARGV[1], ARGV[2]
if redis.call('HEXISTS', base, id) == 1 then return 'exists' end
if redis.call('HLEN', base) >= tonumber(ARGV[4]) then return 'full' end
insert(base, id, ARGV[3])
return 'created'
`;

/** ARGV: base, id. Answers 1 when it was there. */
export const COLL_DELETE = `
local base, id = ARGV[1], ARGV[2]
if redis.call('HDEL', base, id) == 0 then return 0 end
redis.call('ZREM', base .. ':order', id)
redis.call('ZREM', base .. ':ended', id)
return 1
`;

/** ARGV: base. Every record's JSON, oldest first. */
export const COLL_LIST = `${HMGET_ALL}
local ids = redis.call('ZRANGE', ARGV[1] .. ':order', 0, -1)
if #ids == 0 then return {} end
return hmgetAll(ARGV[1], ids)
`;

/**
 * Runs and bulk replays: a put, then the records that ended first, beyond the bound, go
 * (EndingMap's rule: ':ended' is scored by when each ended, from the order's counter).
 * ARGV: base, id, json, ended ('1'/'0'), maxEnded, fence key, fence epoch.
 */
export const RUN_PUT = `${ORDER}
fenced(ARGV[6], ARGV[7])
local base, id = ARGV[1], ARGV[2]
insert(base, id, ARGV[3])
if ARGV[4] == '1' then
  if not redis.call('ZSCORE', base .. ':ended', id) then
    -- The order's counter: above every score given so far, ':ended' scores of earlier builds included.
    redis.call('ZADD', base .. ':ended', redis.call('INCR', base .. ':next'), id)
  end
else
  redis.call('ZREM', base .. ':ended', id)
end
local max = tonumber(ARGV[5])
while redis.call('ZCARD', base .. ':ended') > max do
  local x = redis.call('ZPOPMIN', base .. ':ended')[1]
  redis.call('HDEL', base, x)
  redis.call('ZREM', base .. ':order', x)
end
return 1
`;

/**
 * Deliveries keep indexes for query(): base..':state:<s>', ':webhook:<id>', ':run:<id>' and
 * ':finished' (not pending), each scored like ':order'; base..':tags' remembers which a
 * delivery is in ("state\\nwebhookId\\nrunId").
 */
const DELIVERY_INDEX = `
local function unindex(base, id)
  local tags = redis.call('HGET', base .. ':tags', id)
  if not tags then return end
  local s, w, r = string.match(tags, '^(.-)\\n(.-)\\n(.*)$')
  redis.call('ZREM', base .. ':state:' .. s, id)
  redis.call('ZREM', base .. ':webhook:' .. w, id)
  if r ~= '' then redis.call('ZREM', base .. ':run:' .. r, id) end
  redis.call('HDEL', base .. ':tags', id)
end
local function remove(base, id)
  unindex(base, id)
  redis.call('HDEL', base, id)
  redis.call('ZREM', base .. ':order', id)
  redis.call('ZREM', base .. ':finished', id)
end
`;

/**
 * A put, then the oldest finished deliveries beyond the bound go (DeliveryMap's rule; pending
 * ones never). ARGV: base, id, json, state, webhookId, runId ('' none), maxFinished, fence key,
 * fence epoch.
 */
export const DELIVERY_PUT = `${ORDER}${DELIVERY_INDEX}
fenced(ARGV[8], ARGV[9])
local base, id, state, wh, run = ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local score = insert(base, id, ARGV[3])
unindex(base, id)
redis.call('HSET', base .. ':tags', id, state .. '\\n' .. wh .. '\\n' .. run)
redis.call('ZADD', base .. ':state:' .. state, score, id)
redis.call('ZADD', base .. ':webhook:' .. wh, score, id)
if run ~= '' then redis.call('ZADD', base .. ':run:' .. run, score, id) end
if state ~= 'pending' then redis.call('ZADD', base .. ':finished', score, id) else redis.call('ZREM', base .. ':finished', id) end
local max = tonumber(ARGV[7])
while redis.call('ZCARD', base .. ':finished') > max do
  remove(base, redis.call('ZPOPMIN', base .. ':finished')[1])
end
return 1
`;

/** ARGV: base, id. Answers 1 when it was there. */
export const DELIVERY_DELETE = `${DELIVERY_INDEX}
if redis.call('HEXISTS', ARGV[1], ARGV[2]) == 0 then return 0 end
remove(ARGV[1], ARGV[2])
return 1
`;

/**
 * Newest first (by first insertion, as DeliveryMap iterates), filtered: ARGV: base, state,
 * webhookId, runId, before (each '' for none), limit (-1: none). Walks the smallest index
 * that applies and checks the others by membership; `before` compares ids bytewise.
 */
export const DELIVERY_QUERY = `${HMGET_ALL}
local base, before, limit = ARGV[1], ARGV[5], tonumber(ARGV[6])
local function lt(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local filters = {}
if ARGV[3] ~= '' then filters[#filters + 1] = base .. ':webhook:' .. ARGV[3] end
if ARGV[4] ~= '' then filters[#filters + 1] = base .. ':run:' .. ARGV[4] end
if ARGV[2] ~= '' then filters[#filters + 1] = base .. ':state:' .. ARGV[2] end
local src = base .. ':order'
local least = -1
for _, f in ipairs(filters) do
  local n = redis.call('ZCARD', f)
  if least < 0 or n < least then least, src = n, f end
end
local out = {}
local pos = 0
while limit < 0 or #out < limit do
  local ids = redis.call('ZREVRANGE', src, pos, pos + 199)
  if #ids == 0 then break end
  pos = pos + #ids
  for _, x in ipairs(ids) do
    if before == '' or lt(x, before) then
      local ok = true
      for _, f in ipairs(filters) do
        if f ~= src and not redis.call('ZSCORE', f, x) then
          ok = false
          break
        end
      end
      if ok then
        out[#out + 1] = x
        if limit >= 0 and #out >= limit then break end
      end
    end
  end
end
if #out == 0 then return {} end
return hmgetAll(base, out)
`;

/** The virtual clock. ARGV: key, JSON, fence key, fence epoch. */
export const CLOCK_SET = `${FENCE}
fenced(ARGV[3], ARGV[4])
redis.call('SET', ARGV[1], ARGV[2])
return 1
`;

/**
 * The marker (see RedisStore.readMarker): its token, written first if there is none.
 * ARGV: key, a new token. Answers the token now stored.
 */
export const MARKER = `
local v = redis.call('GET', ARGV[1])
if v then return v end
redis.call('SET', ARGV[1], ARGV[2])
return ARGV[2]
`;

export const COLLECTION_SCRIPTS = {
  hlMarker: MARKER,
  hlClockSet: CLOCK_SET,
  hlCollPut: COLL_PUT,
  hlCollCreate: COLL_CREATE,
  hlCollDelete: COLL_DELETE,
  hlCollList: COLL_LIST,
  hlRunPut: RUN_PUT,
  hlDeliveryPut: DELIVERY_PUT,
  hlDeliveryDelete: DELIVERY_DELETE,
  hlDeliveryQuery: DELIVERY_QUERY,
} as const;
