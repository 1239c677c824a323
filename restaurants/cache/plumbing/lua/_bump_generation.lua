-- Included (not run alone): bump_generation(key, seconds) INCRs a group's generation, so a value read before now is not stored, and keeps it for seconds.
local function bump_generation(key, seconds)
  redis.call('INCR', key)
  redis.call('EXPIRE', key, seconds)
end
