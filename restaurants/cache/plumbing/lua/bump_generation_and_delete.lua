-- KEYS: key, its group's generation; ARGV: generation seconds. Bumps the generation, then deletes key; returns DEL's count.
-- include: _bump_generation
bump_generation(KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
