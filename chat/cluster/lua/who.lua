-- Returns how every client on record in the room is known (its nick, or
-- 'client N'), in id order.
local ids = {}
for _, node in ipairs(redis.call('SMEMBERS', PREFIX .. 'nodes')) do
  for _, id in ipairs(redis.call('SMEMBERS', nodeKey(node, 'members'))) do
    ids[#ids + 1] = tonumber(id)
  end
end
table.sort(ids)
local labels = {}
for i, id in ipairs(ids) do
  labels[i] = redis.call('HGET', PREFIX .. 'nicks', id) or ('client ' .. id)
end
return labels
