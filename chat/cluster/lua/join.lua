-- ARGV[5]: the arrival notice's format; ARGV[6]: the highest client id this
-- node has seen (-1 for none).  Returns {id, entry id}: the new client's id,
-- above every id seen, listed as this node's, and its announcement.
idsAbove(tonumber(ARGV[6]))
local id = redis.call('INCR', PREFIX .. 'ids') - 1
redis.call('SADD', nodeKey(NODE, 'members'), id)
return {id, append(NODE, string.format(ARGV[5], id), {'i', id})}
