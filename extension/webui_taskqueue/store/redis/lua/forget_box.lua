-- with holder.lua
-- ARGV: P, kept, box, token. A box that stops says so, if the name is its own.
if other then return 0 end
if held then redis.call('DEL', key) end
redis.call('SREM', ARGV[1] .. 'boxes', ARGV[3])
return 1
