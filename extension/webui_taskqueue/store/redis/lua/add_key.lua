-- with common.lua
-- ARGV: P, kept, name, digest, prefix (JSON), created_at (JSON)
local name, digest = ARGV[3], ARGV[4]
if redis.call('EXISTS', P .. 'u:' .. name) == 0 then return 'missing' end
redis.call('HSET', P .. 'k:' .. digest, 'user', name, 'prefix', ARGV[5], 'created_at', ARGV[6])
redis.call('SADD', P .. 'uk:' .. name, digest)
return 'ok'
