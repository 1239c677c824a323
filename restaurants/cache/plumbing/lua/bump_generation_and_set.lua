-- KEYS: key, its group's generation; ARGV: value, generation seconds, value seconds. Bumps the generation, then sets key; returns SET's reply.
-- include: _bump_generation
bump_generation(KEYS[2], ARGV[2])
return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
