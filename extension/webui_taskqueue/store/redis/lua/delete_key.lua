-- with common.lua
-- ARGV: P, kept, name, prefix (JSON)
local name, prefix, found = ARGV[3], ARGV[4], 0
for _, digest in ipairs(redis.call('SMEMBERS', P .. 'uk:' .. name)) do
  if redis.call('HGET', P .. 'k:' .. digest, 'prefix') == prefix then
    redis.call('DEL', P .. 'k:' .. digest)
    redis.call('SREM', P .. 'uk:' .. name, digest)
    found = found + 1
  end
end
return found
