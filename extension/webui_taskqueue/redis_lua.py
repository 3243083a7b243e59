"""The Redis store's multi-key changes, as Lua scripts: Redis runs each one whole, with
nothing else in between, so a claim, a quota check or a final state with its event and
webhook can never be seen half done, nor won by two boxes.

Every task field is kept as its JSON text, written by Python; the scripts copy those
texts and decode only strings (status, owner), never numbers, so no time loses digits.
Keys are built here from the prefix (ARGV[1]): one Redis server, not a cluster.
ARGV[2] is always the event window (push_store.EVENTS_KEPT)."""

from __future__ import annotations

import dataclasses

from .scheduler import Queued
from .tasks import FINAL_STATUSES

LIGHT = [f.name for f in dataclasses.fields(Queued)]  # a light record: these fields' JSON, as an array
QLOG_KEPT = 10_000  # changes of the queued set a box can catch up with, instead of reading it all

_COMMON = """
local P = ARGV[1]
local KEPT = tonumber(ARGV[2])
local FINAL = {%(final)s}
local changed = {}

local function tkey(id) return P .. 't:' .. id end

local function light_of(id)
  return '[' .. table.concat(redis.call('HMGET', tkey(id), %(light)s), ',') .. ']'
end

local function refresh(id)
  redis.call('HSET', P .. 'light', id, light_of(id))
  changed[#changed + 1] = id
end

local function queue_changed()
  if #changed == 0 then return end
  local v = redis.call('INCR', P .. 'version')
  redis.call('XADD', P .. 'qlog', 'MAXLEN', '~', %(qlog)d, '0-' .. v, 'ids', cjson.encode(changed))
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
""" % {
    "final": ", ".join(f"{s.value} = true" for s in sorted(FINAL_STATUSES)),
    "light": ", ".join(f"'{name}'" for name in LIGHT),
    "qlog": QLOG_KEPT,
}

# ARGV: P, kept, id, owner, status, now (JSON), hour cutoff, max_queued, max_per_hour,
# the number of field pairs, the pairs, then the request's large values
ADD = _COMMON + """
local id, owner, status, now, cutoff = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local max_queued, max_per_hour, npairs = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local k = tkey(id)
if redis.call('EXISTS', k) == 1 then return {'exists'} end
local subs = P .. 'subs:' .. owner
redis.call('ZREMRANGEBYSCORE', subs, '-inf', cutoff)
if max_queued > 0 or max_per_hour > 0 then
  local queued = redis.call('ZCARD', P .. 'os:queued:' .. owner)
  local hour = redis.call('ZCARD', subs)
  if (max_queued > 0 and queued >= max_queued) or (max_per_hour > 0 and hour >= max_per_hour) then
    local oldest = redis.call('ZRANGE', subs, 0, 0, 'WITHSCORES')
    return {'quota', queued, hour, oldest[2] or false}
  end
end
local seq = redis.call('INCR', P .. 'seq')
local fields = {}
for i = 11, 10 + 2 * npairs do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', k, 'seq', seq, unpack(fields))
redis.call('ZADD', P .. 'all', seq, id)
redis.call('ZADD', P .. 'o:' .. owner, seq, id)
index(id, owner, status, seq)
for i = 11 + 2 * npairs, #ARGV do redis.call('RPUSH', P .. 'in:' .. id, ARGV[i]) end
redis.call('ZADD', subs, now, seq)
if status == 'queued' then
  refresh(id)
  redis.call('PUBLISH', P .. 'work', id)  -- wakes the other boxes' workers
end
log_event(owner, id, 'submitted', status_data(id, 'queued'), now)
queue_changed()
return {'ok'}
"""

# ARGV: P, kept, id, new status, allowed old statuses (JSON list), at (JSON), overtaken
# (JSON list), due (JSON list), then field pairs. Returns the task's fields.
TRANSITION = _COMMON + """
local id, new, at = ARGV[3], ARGV[4], ARGV[6]
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
local result = transition(id, new, set_of(cjson.decode(ARGV[5])), at, fields)
if result[1] ~= 'ok' then return result end
if new == 'running' then
  for _, other in ipairs(cjson.decode(ARGV[7])) do
    if redis.call('HGET', tkey(other), 'status') == '"queued"' then
      redis.call('HINCRBY', tkey(other), 'overtaken', 1)
      refresh(other)
    end
  end
  for _, other in ipairs(cjson.decode(ARGV[8])) do
    local state = redis.call('HMGET', tkey(other), 'status', 'due_since')
    if state[1] == '"queued"' and state[2] == 'null' then
      redis.call('HSET', tkey(other), 'due_since', at)
      refresh(other)
    end
  end
end
queue_changed()
return {'ok', redis.call('HGETALL', tkey(id))}
"""

# ARGV: P, kept, id, field pairs (sort_order and/or priority)
REORDER = _COMMON + """
local id = ARGV[3]
local status = redis.call('HGET', tkey(id), 'status')
if not status then return {'missing'} end
if status ~= '"queued"' then return {'invalid', cjson.decode(status)} end
if #ARGV > 3 then
  local fields = {}
  for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', tkey(id), unpack(fields))
end
refresh(id)
queue_changed()
return {'ok', redis.call('HGETALL', tkey(id))}
"""

# ARGV: P, kept, id
DELETE = _COMMON + """
local id = ARGV[3]
local cur = redis.call('HMGET', tkey(id), 'status', 'owner')
if not cur[1] then return {'missing'} end
local status, owner = cjson.decode(cur[1]), cjson.decode(cur[2])
if not FINAL[status] then return {'invalid', status} end
unindex(id, owner, status)
redis.call('ZREM', P .. 'all', id)
redis.call('ZREM', P .. 'o:' .. owner, id)
redis.call('ZREM', P .. 'due', id)
redis.call('DEL', tkey(id), P .. 'in:' .. id, P .. 'd:' .. id)
return {'ok'}
"""

# ARGV: P, kept, now, held, limit. The webhook deliveries due at `now`, soonest first,
# each made due at `held` instead (a claim: one box takes each; the delivery's own
# record keeps its next try). Returns their ids.
CLAIM_DELIVERIES = """
local P, now, held = ARGV[1], ARGV[3], ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
for _, id in ipairs(ids) do redis.call('ZADD', P .. 'due', 'XX', held, id) end
return ids
"""

# The record of box ARGV[3] (`held`), and whether another process (another token than
# ARGV[4]) holds that name.
_HOLDER = """
local key = ARGV[1] .. 'box:' .. ARGV[3]
local held = redis.call('GET', key)
local ok, record = pcall(cjson.decode, held or 'null')
local other = held and (not ok or type(record) ~= 'table' or record.token ~= ARGV[4])
"""

# ARGV: P, kept, box, token, record (JSON), milliseconds. This process says box `box` is
# alive: its record is set (to expire) unless another process (another token) holds the
# name. Returns nil, or the record of the process that holds it.
CLAIM_BOX = _HOLDER + """
if other then return held end
redis.call('SET', key, ARGV[5], 'PX', tonumber(ARGV[6]))
redis.call('SADD', ARGV[1] .. 'boxes', ARGV[3])
return false
"""

# ARGV: P, kept, box, token. A box that stops says so, if the name is its own.
FORGET_BOX = _HOLDER + """
if other then return 0 end
if held then redis.call('DEL', key) end
redis.call('SREM', ARGV[1] .. 'boxes', ARGV[3])
return 1
"""

# ARGV: P, kept, at (JSON), then owner, task id, kind, data (JSON) for each event
APPEND_EVENTS = _COMMON + """
for i = 4, #ARGV, 4 do log_event(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[3]) end
return tonumber(redis.call('GET', P .. 'event_id') or '0')
"""

# ARGV: P, kept, the version the caller holds (-1: none). Returns {version} when it is
# current, {version, 'changes', id, light or false, ...} when the change log reaches
# back to it, else {version, 'reload'}: the caller reads them all (not here: a script
# that builds a 10,000-item answer leaves Lua garbage that slows the scripts after it).
QUEUED = _COMMON + """
local v = tonumber(redis.call('GET', P .. 'version') or '0')
local have = tonumber(ARGV[3])
if have == v then return {v} end
if have >= 0 and have < v then
  local log = redis.call('XRANGE', P .. 'qlog', '(0-' .. have, '+')
  if #log > 0 and log[1][1] == '0-' .. (have + 1) then
    local out, seen = {v, 'changes'}, {}
    for _, entry in ipairs(log) do
      for _, id in ipairs(cjson.decode(entry[2][2])) do
        if not seen[id] then
          seen[id] = true
          out[#out + 1] = id
          out[#out + 1] = redis.call('HGET', P .. 'light', id)
        end
      end
    end
    return out
  end
end
return {v, 'reload'}
"""

# ARGV: P, kept, now (JSON), this box (JSON, null: none), "1" at start (recover), the
# message for this box's own tasks (JSON), the message for a stopped box's: before and
# after its name. At start: this box's running tasks and those of stopped boxes; else:
# only stopped boxes'. Returns the ids marked failed.
REAP = _COMMON + """
local now, mine, starting = ARGV[3], ARGV[4], ARGV[5] == '1'
local out = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 's:running', 0, -1)) do
  local box = redis.call('HGET', tkey(id), 'box') or 'null'
  local error = nil
  if starting and (box == mine or box == 'null') then
    error = ARGV[6]
  elseif box ~= 'null' and box ~= mine and redis.call('EXISTS', P .. 'box:' .. cjson.decode(box)) == 0 then
    error = cjson.encode(ARGV[7] .. cjson.decode(box) .. ARGV[8])
  end
  if error then
    transition(id, 'failed', {running = true}, now, {'finished_at', now, 'error', error})
    out[#out + 1] = id
  end
end
queue_changed()
return out
"""

# ---- users and keys --------------------------------------------------------------------

# ARGV: P, kept, name, role, then field pairs
ADD_USER = _COMMON + """
local name, role = ARGV[3], ARGV[4]
if redis.call('EXISTS', P .. 'u:' .. name) == 1 then return 'exists' end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', P .. 'u:' .. name, unpack(fields))
redis.call('SADD', P .. 'users', name)
redis.call('SADD', P .. 'role:' .. role, name)
return 'ok'
"""

# ARGV: P, kept, name, now (JSON). The user and their keys go, their queued tasks are
# cancelled (with events and webhooks) in the same step; returns those tasks' ids.
DELETE_USER = _COMMON + """
local name, now = ARGV[3], ARGV[4]
local role = redis.call('HGET', P .. 'u:' .. name, 'role')
if not role then return {'missing'} end
redis.call('DEL', P .. 'u:' .. name)
redis.call('SREM', P .. 'users', name)
redis.call('SREM', P .. 'role:' .. cjson.decode(role), name)
for _, digest in ipairs(redis.call('SMEMBERS', P .. 'uk:' .. name)) do redis.call('DEL', P .. 'k:' .. digest) end
redis.call('DEL', P .. 'uk:' .. name)
local ids = redis.call('ZRANGE', P .. 'os:queued:' .. name, 0, -1)
for _, id in ipairs(ids) do transition(id, 'cancelled', {queued = true}, now, {'finished_at', now}) end
queue_changed()
return {'ok', ids}
"""

# ARGV: P, kept, name, digest, prefix (JSON), created_at (JSON)
ADD_KEY = _COMMON + """
local name, digest = ARGV[3], ARGV[4]
if redis.call('EXISTS', P .. 'u:' .. name) == 0 then return 'missing' end
redis.call('HSET', P .. 'k:' .. digest, 'user', name, 'prefix', ARGV[5], 'created_at', ARGV[6])
redis.call('SADD', P .. 'uk:' .. name, digest)
return 'ok'
"""

# ARGV: P, kept, name, prefix (JSON)
DELETE_KEY = _COMMON + """
local name, prefix, found = ARGV[3], ARGV[4], 0
for _, digest in ipairs(redis.call('SMEMBERS', P .. 'uk:' .. name)) do
  if redis.call('HGET', P .. 'k:' .. digest, 'prefix') == prefix then
    redis.call('DEL', P .. 'k:' .. digest)
    redis.call('SREM', P .. 'uk:' .. name, digest)
    found = found + 1
  end
end
return found
"""
