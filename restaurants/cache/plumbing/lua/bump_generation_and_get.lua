-- KEYS: key, its group's generation; ARGV: generation seconds. Bumps the generation, then returns key's value (or nil).
-- include: _bump_generation
bump_generation(KEYS[2], ARGV[1])
return redis.call('GET', KEYS[1])
