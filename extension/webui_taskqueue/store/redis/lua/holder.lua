-- The record of box ARGV[3] (`held`), and whether another process (another token than
-- ARGV[4]) holds that name.
local key = ARGV[1] .. 'box:' .. ARGV[3]
local held = redis.call('GET', key)
local ok, record = pcall(cjson.decode, held or 'null')
local other = held and (not ok or type(record) ~= 'table' or record.token ~= ARGV[4])
