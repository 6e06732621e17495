-- ARGV[5]: the arrival notice's format; ARGV[6]: the highest client id this
-- node has seen (-1 for none); with a login, ARGV[7]: the key of the
-- account's name, ARGV[8]: the name.  Returns {id, entry id, shared}: the
-- new client's id, above every id seen, listed as this node's; the entry
-- to wait for (its announcement); and 1 when it is another session of an
-- account that is here already (it holds the name, nobody is told: the
-- entry is the stream's last), else 0 (a login's name is its own now).
idsAbove(tonumber(ARGV[6]))
local id = redis.call('INCR', PREFIX .. 'ids') - 1
redis.call('SADD', nodeKey(NODE, 'members'), id)
local key = ARGV[7]
if key then
  local sessions = PREFIX .. 'sessions:' .. key
  local holder = redis.call('HGET', PREFIX .. 'names', key)
  local shared = holder and redis.call('SISMEMBER', sessions, holder) == 1
  if shared or not holder then
    local nick = shared and redis.call('HGET', PREFIX .. 'nicks', holder) or ARGV[8]
    redis.call('SADD', sessions, id)
    redis.call('HSET', PREFIX .. 'names', key, holder or id)
    redis.call('HSET', PREFIX .. 'keys', id, key)
    redis.call('HSET', PREFIX .. 'nicks', id, nick)
  end
  if shared then
    local last = redis.call('XREVRANGE', PREFIX .. 'stream', '+', '-', 'COUNT', 1)
    return {id, last[1] and last[1][1] or '0-0', 1}
  end
end
return {id, append(NODE, string.format(ARGV[5], id), {'i', id}), 0}
