-- KEYS: summary, restaurant generation, restaurant page group; ARGV: summary ('': drop it), summary seconds, generation seconds. Returns DEL's count of the page group.
-- include: _bump_generation
bump_generation(KEYS[2], ARGV[3])
if ARGV[1] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return redis.call('DEL', KEYS[3])
