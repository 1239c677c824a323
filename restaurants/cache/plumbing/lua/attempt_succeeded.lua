-- KEYS: the account+client attempts, the client's failures; no ARGV. The account starts afresh from this client, and its attempt was no failure; returns 0.
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 0
