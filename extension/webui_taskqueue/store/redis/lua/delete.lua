-- with common.lua
-- ARGV: P, kept, id
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
