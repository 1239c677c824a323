-- KEYS[1] key; ARGV[1] the value read (or a lock's token). Deletes key only if it still holds it; returns 1 if deleted, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
