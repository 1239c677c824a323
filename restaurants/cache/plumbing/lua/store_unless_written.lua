-- KEYS: key, its group's generation; ARGV: value, seconds, generation read before. Stores value only if no write bumped the generation since; returns 1 if stored, else 0.
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
