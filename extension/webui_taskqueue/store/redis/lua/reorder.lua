-- with common.lua
-- ARGV: P, kept, id, field pairs (sort_order and/or priority)
local id = ARGV[3]
local status = redis.call('HGET', tkey(id), 'status')
if not status then return {'missing'} end
if status ~= '"queued"' then return {'invalid', cjson.decode(status)} end
if #ARGV > 3 then
  local fields = {}
  for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', tkey(id), unpack(fields))
end
refresh(id)
queue_changed()
return {'ok', redis.call('HGETALL', tkey(id))}
