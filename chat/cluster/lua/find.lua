-- ARGV[5]: the key of a nick.  Returns {} when nobody has it, else the id
-- of the client that has it, then those of every session of its account
-- (it included) when it is an account's name.
local key = ARGV[5]
local holder = redis.call('HGET', PREFIX .. 'names', key)
if not holder then return {} end
local found = {tonumber(holder)}
for _, id in ipairs(redis.call('SMEMBERS', PREFIX .. 'sessions:' .. key)) do
  found[#found + 1] = tonumber(id)
end
return found
