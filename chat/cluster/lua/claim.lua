-- ARGV[5]: a client's id; ARGV[6]: the nick it asks for.  Returns 1 when
-- the nick is its own now (its former one freed), 0 when another client
-- has it, ignoring case.
local id, nick = ARGV[5], ARGV[6]
local key = string.lower(nick)
local holder = redis.call('HGET', PREFIX .. 'names', key)
if holder and holder ~= id then return 0 end
local old = redis.call('HGET', PREFIX .. 'nicks', id)
if old and string.lower(old) ~= key then
  redis.call('HDEL', PREFIX .. 'names', string.lower(old))
end
redis.call('HSET', PREFIX .. 'names', key, id)
redis.call('HSET', PREFIX .. 'nicks', id, nick)
return 1
