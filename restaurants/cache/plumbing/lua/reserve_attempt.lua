-- KEYS: counters of one slot (a login: the account+client attempts, the client's failures); ARGV: their limits, then the window. Returns 0 when the attempt may go on (and counts it in every counter), else the seconds to wait.
local window = tonumber(ARGV[#KEYS + 1])
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then ttl = window end
    return ttl
  end
end
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], window) end
end
return 0
