-- with common.lua
-- ARGV: P, kept, id, owner, status, now (JSON), hour cutoff, max_queued, max_per_hour,
-- the number of field pairs, the pairs, then the request's large values
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
