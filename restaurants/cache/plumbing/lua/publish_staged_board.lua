-- KEYS: board set, details, staged set, staged details, fresh_until, journal, lists generation, lists page group; ARGV: keep seconds, fresh_until, prior weight, journal records from (epoch s), generation seconds, "unknown" records from (epoch s). Returns 1 if published, 0 if an "unknown" record forbids it.
-- include: _bump_generation
-- include: _bayesian_score
local mean = tonumber(redis.call('HGET', KEYS[4], ''))
local weight = tonumber(ARGV[3])
local journal = redis.call('HGETALL', KEYS[6])
for i = 1, #journal, 2 do
  local name, record = journal[i], journal[i + 1]
  local sep = string.find(record, '|', 1, true)
  local at, details = tonumber(string.sub(record, 1, sep - 1)), string.sub(record, sep + 1)
  if details == '' then
    if at >= tonumber(ARGV[6]) then return 0 end
  elseif at >= tonumber(ARGV[4]) then
    local stars = cjson.decode(details)['stars']
    if stars == nil then
      redis.call('ZREM', KEYS[3], name)
      redis.call('HDEL', KEYS[4], name)
    else
      redis.call('ZADD', KEYS[3], bayesian_score(stars, mean, weight), name)
      redis.call('HSET', KEYS[4], name, details)
    end
  end
end
-- A board replacing another moves every score (a new mean): retire every list page. With no
-- board before, the pages cached meanwhile were rendered from DynamoDB, and every write since
-- retired them all (catalogue.put): they stay.
local replaced = redis.call('EXISTS', KEYS[1])
if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('ZADD', KEYS[3], 0, '') end  -- the journal emptied it
redis.call('RENAME', KEYS[3], KEYS[1])
redis.call('RENAME', KEYS[4], KEYS[2])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('SET', KEYS[5], ARGV[2], 'EX', ARGV[1])
if replaced == 1 then
  bump_generation(KEYS[7], ARGV[5])
  redis.call('DEL', KEYS[8])
end
return 1
