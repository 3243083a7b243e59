-- with common.lua
-- ARGV: P, kept, id, new status, allowed old statuses (JSON list), at (JSON), overtaken
-- (JSON list), due (JSON list), then field pairs. Returns the task's fields.
local id, new, at = ARGV[3], ARGV[4], ARGV[6]
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
local result = transition(id, new, set_of(cjson.decode(ARGV[5])), at, fields)
if result[1] ~= 'ok' then return result end
if new == 'running' then
  for _, other in ipairs(cjson.decode(ARGV[7])) do
    if redis.call('HGET', tkey(other), 'status') == '"queued"' then
      redis.call('HINCRBY', tkey(other), 'overtaken', 1)
      refresh(other)
    end
  end
  for _, other in ipairs(cjson.decode(ARGV[8])) do
    local state = redis.call('HMGET', tkey(other), 'status', 'due_since')
    if state[1] == '"queued"' and state[2] == 'null' then
      redis.call('HSET', tkey(other), 'due_since', at)
      refresh(other)
    end
  end
end
queue_changed()
return {'ok', redis.call('HGETALL', tkey(id))}
