-- KEYS: board set, details, fresh_until, journal, lists generation, lists page group; ARGV: name, journal record, journal seconds, generation seconds. Returns DEL's count of the page group.
-- include: _bump_generation
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[3])
bump_generation(KEYS[5], ARGV[4])
return redis.call('DEL', KEYS[6])
