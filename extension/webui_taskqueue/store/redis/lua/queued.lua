-- with common.lua
-- ARGV: P, kept, the version the caller holds (-1: none). Returns {version} when it is
-- current, {version, 'changes', id, light or false, ...} when the change log reaches
-- back to it, else {version, 'reload'}: the caller reads them all (not here: a script
-- that builds a 10,000-item answer leaves Lua garbage that slows the scripts after it).
local v = tonumber(redis.call('GET', P .. 'version') or '0')
local have = tonumber(ARGV[3])
if have == v then return {v} end
if have >= 0 and have < v then
  local log = redis.call('XRANGE', P .. 'qlog', '(0-' .. have, '+')
  if #log > 0 and log[1][1] == '0-' .. (have + 1) then
    local out, seen = {v, 'changes'}, {}
    for _, entry in ipairs(log) do
      for _, id in ipairs(cjson.decode(entry[2][2])) do
        if not seen[id] then
          seen[id] = true
          out[#out + 1] = id
          out[#out + 1] = redis.call('HGET', P .. 'light', id)
        end
      end
    end
    return out
  end
end
return {v, 'reload'}
