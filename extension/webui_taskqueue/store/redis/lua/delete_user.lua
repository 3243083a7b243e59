-- with common.lua
-- ARGV: P, kept, name, now (JSON). The user and their keys go, their queued tasks are
-- cancelled (with events and webhooks) in the same step; returns those tasks' ids.
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
