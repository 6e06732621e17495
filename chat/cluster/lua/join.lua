-- ARGV[5]: the arrival notice's format.  Returns {id, entry id}: the new
-- client's id, listed as this node's, and its announcement.
local id = redis.call('INCR', PREFIX .. 'ids') - 1
redis.call('SADD', nodeKey(NODE, 'members'), id)
return {id, append(NODE, string.format(ARGV[5], id))}
