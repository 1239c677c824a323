-- KEYS: page group, its generation, the releases that stored pages in it; ARGV: field, entry, generation read before rendering, page seconds, release. Returns 1 if stored, 0 if a write bumped the generation since.
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
-- Kept at least as long as any field this release stores in the group. A hash, not a
-- set: the documented least ACL (README) grants HSET/HGETALL, not the set commands.
redis.call('HSET', KEYS[3], ARGV[5], '1')
redis.call('EXPIRE', KEYS[3], ARGV[4])
return 1
