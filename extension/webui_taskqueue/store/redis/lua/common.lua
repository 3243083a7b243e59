-- Shared by the scripts that start with it (the loader puts it in front of each).
-- ARGV[1]: the key prefix; ARGV[2]: the event window (store.push.EVENTS_KEPT).
-- FINAL, LIGHT and the change log's length must match records.tasks (FINAL_STATUSES,
-- Queued's fields) and scripts.QLOG_KEPT: tests/test_redis_scripts.py checks them.
local P = ARGV[1]
local KEPT = tonumber(ARGV[2])
local FINAL = {cancelled = true, done = true, failed = true, interrupted = true}
local changed = {}

local function tkey(id) return P .. 't:' .. id end

local function light_of(id)
  return '[' .. table.concat(redis.call('HMGET', tkey(id), 'task_id', 'owner', 'checkpoint', 'vae', 'created_at', 'work', 'priority', 'sort_order', 'overtaken', 'due_since', 'type', 'size'), ',') .. ']'
end

local function refresh(id)
  redis.call('HSET', P .. 'light', id, light_of(id))
  changed[#changed + 1] = id
end

local function queue_changed()
  if #changed == 0 then return end
  local v = redis.call('INCR', P .. 'version')
  redis.call('XADD', P .. 'qlog', 'MAXLEN', '~', 10000, '0-' .. v, 'ids', cjson.encode(changed))
  changed = {}
end

local function log_event(owner, id, kind, data, at)
  local n = redis.call('INCR', P .. 'event_id')
  local minid = '0-' .. math.max(1, n - KEPT + 1)
  local fields = {'owner', owner, 'task_id', id, 'kind', kind, 'data', data, 'at', at}
  redis.call('XADD', P .. 'events', 'MINID', minid, '0-' .. n, unpack(fields))
  redis.call('XADD', P .. 'ev:' .. owner, 'MINID', minid, '0-' .. n, unpack(fields))
  return n
end

local function status_data(id, status)
  return '{"task_id":' .. cjson.encode(id) .. ',"status":"' .. status .. '"}'
end

local function index(id, owner, status, seq)
  redis.call('ZADD', P .. 's:' .. status, seq, id)
  redis.call('ZADD', P .. 'os:' .. status .. ':' .. owner, seq, id)
end

local function unindex(id, owner, status)
  redis.call('ZREM', P .. 's:' .. status, id)
  redis.call('ZREM', P .. 'os:' .. status .. ':' .. owner, id)
end

-- a final state: its event, and its webhook due at once (the outbox), in this same step
local function ended(id, owner, status, at)
  log_event(owner, id, 'final', status_data(id, status), at)
  local url = redis.call('HGET', tkey(id), 'callback_url')
  if url and url ~= 'null' and redis.call('EXISTS', P .. 'd:' .. id) == 0 then
    redis.call('HSET', P .. 'd:' .. id, 'task_id', cjson.encode(id), 'owner', cjson.encode(owner), 'url', url,
      'attempts', '0', 'last_status', 'null', 'last_error', 'null', 'next_try_at', at,
      'delivered_at', 'null', 'gave_up_at', 'null')
    redis.call('ZADD', P .. 'due', at, id)
  end
end

-- one status change checked against the allowed old statuses; fields: {name, json, ...}
local function transition(id, new, allowed, at, fields)
  local k = tkey(id)
  local cur = redis.call('HMGET', k, 'status', 'owner', 'seq')
  if not cur[1] then return {'missing'} end
  local old, owner = cjson.decode(cur[1]), cjson.decode(cur[2])
  if not allowed[old] then return {'invalid', old} end
  redis.call('HSET', k, 'status', cjson.encode(new), unpack(fields))
  unindex(id, owner, old)
  index(id, owner, new, cur[3])
  if old == 'queued' then
    redis.call('HDEL', P .. 'light', id)
    changed[#changed + 1] = id
  end
  if new == 'running' then
    redis.call('HSET', P .. 'served', owner, at)
    log_event(owner, id, 'started', status_data(id, 'running'), at)
  end
  if FINAL[new] then ended(id, owner, new, at) end
  return {'ok', owner}
end

local function set_of(list)
  local out = {}
  for _, v in ipairs(list) do out[v] = true end
  return out
end
