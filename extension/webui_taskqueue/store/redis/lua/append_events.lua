-- with common.lua
-- ARGV: P, kept, at (JSON), then owner, task id, kind, data (JSON) for each event
for i = 4, #ARGV, 4 do log_event(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[3]) end
return tonumber(redis.call('GET', P .. 'event_id') or '0')
