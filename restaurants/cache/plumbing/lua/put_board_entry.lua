-- KEYS: board set, details, journal, lists generation, lists page group, the releases that stored pages in it; ARGV: expected generation ('*': any), name, details ('': removed), journal record, journal seconds, generation seconds, prior weight, then the page addresses to retire ('*': all). Returns 1 if put, 0 if the generation had moved.
-- include: _bump_generation
-- include: _bayesian_score
-- Each address is retired for every release (keys.release_page_field: release .. address).
if ARGV[1] ~= '*' and (redis.call('GET', KEYS[4]) or '') ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[3] == '' then
    redis.call('ZREM', KEYS[1], ARGV[2])
    redis.call('HDEL', KEYS[2], ARGV[2])
  else
    local mean = tonumber(redis.call('HGET', KEYS[2], ''))
    local stars = cjson.decode(ARGV[3])['stars']
    redis.call('ZADD', KEYS[1], bayesian_score(stars, mean, tonumber(ARGV[7])), ARGV[2])
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  end
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[5])
bump_generation(KEYS[4], ARGV[6])
if ARGV[8] == '*' then
  redis.call('DEL', KEYS[5])
elseif #ARGV >= 8 then
  local releases = redis.call('HGETALL', KEYS[6])  -- release, '1', release, '1'...
  for r = 1, #releases, 2 do
    local fields = {}
    for i = 8, #ARGV do fields[#fields + 1] = releases[r] .. ARGV[i] end
    redis.call('HDEL', KEYS[5], unpack(fields))
  end
end
return 1
