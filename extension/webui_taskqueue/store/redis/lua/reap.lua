-- with common.lua
-- ARGV: P, kept, now (JSON), this box (JSON, null: none), "1" at start (recover), the
-- message for this box's own tasks (JSON), the message for a stopped box's: before and
-- after its name. At start: this box's running tasks and those of stopped boxes; else:
-- only stopped boxes'. Returns the ids marked failed.
local now, mine, starting = ARGV[3], ARGV[4], ARGV[5] == '1'
local out = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 's:running', 0, -1)) do
  local box = redis.call('HGET', tkey(id), 'box') or 'null'
  local error = nil
  if starting and (box == mine or box == 'null') then
    error = ARGV[6]
  elseif box ~= 'null' and box ~= mine and redis.call('EXISTS', P .. 'box:' .. cjson.decode(box)) == 0 then
    error = cjson.encode(ARGV[7] .. cjson.decode(box) .. ARGV[8])
  end
  if error then
    transition(id, 'failed', {running = true}, now, {'finished_at', now, 'error', error})
    out[#out + 1] = id
  end
end
queue_changed()
return out
