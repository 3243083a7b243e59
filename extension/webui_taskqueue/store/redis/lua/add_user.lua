-- with common.lua
-- ARGV: P, kept, name, role, then field pairs
local name, role = ARGV[3], ARGV[4]
if redis.call('EXISTS', P .. 'u:' .. name) == 1 then return 'exists' end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', P .. 'u:' .. name, unpack(fields))
redis.call('SADD', P .. 'users', name)
redis.call('SADD', P .. 'role:' .. role, name)
return 'ok'
