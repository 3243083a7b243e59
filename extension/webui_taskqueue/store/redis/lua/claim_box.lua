-- with holder.lua
-- ARGV: P, kept, box, token, record (JSON), milliseconds. This process says box `box` is
-- alive: its record is set (to expire) unless another process (another token) holds the
-- name. Returns nil, or the record of the process that holds it.
if other then return held end
redis.call('SET', key, ARGV[5], 'PX', tonumber(ARGV[6]))
redis.call('SADD', ARGV[1] .. 'boxes', ARGV[3])
return false
