-- ARGV[5]: a client's id; ARGV[6]: the nick it asks for; ARGV[7]: the
-- nick's key (what look-alike nicks have in common).  Returns 1 when the
-- nick is its own now (its former one freed), 0 when another client has a
-- nick of that key.
local id, nick, key = ARGV[5], ARGV[6], ARGV[7]
local holder = redis.call('HGET', PREFIX .. 'names', key)
if holder and holder ~= id then return 0 end
local old = redis.call('HGET', PREFIX .. 'keys', id)
if old and old ~= key then redis.call('HDEL', PREFIX .. 'names', old) end
redis.call('HSET', PREFIX .. 'names', key, id)
redis.call('HSET', PREFIX .. 'keys', id, key)
redis.call('HSET', PREFIX .. 'nicks', id, nick)
return 1
