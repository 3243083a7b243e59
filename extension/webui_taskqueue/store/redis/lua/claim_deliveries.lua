-- ARGV: P, kept, now, held, limit. The webhook deliveries due at `now`, soonest first,
-- each made due at `held` instead (a claim: one box takes each; the delivery's own
-- record keeps its next try). Returns their ids.
local P, now, held = ARGV[1], ARGV[3], ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
for _, id in ipairs(ids) do redis.call('ZADD', P .. 'due', 'XX', held, id) end
return ids
