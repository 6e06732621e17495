-- ARGV[5]: presence TTL, ms; ARGV[6]: leave notice format; ARGV[7]: the
-- highest client id this node has seen (-1 for none); ARGV[8...]: ids this
-- node knows.  Moves the ids past every id seen (Redis may have come back
-- empty), and announces gone the clients on record here that it does not
-- know (their joining was cut short).  Returns {-1, ''} if the node is
-- expelled, else {clients announced gone, last entry id}.
if redis.call('EXISTS', nodeKey(NODE, 'expelled')) == 1 then return {-1, ''} end
idsAbove(tonumber(ARGV[7]))
redis.call('SET', nodeKey(NODE, 'alive'), '1', 'PX', ARGV[5])
redis.call('SADD', PREFIX .. 'nodes', NODE)
local known = {}
for i = 8, #ARGV do known[ARGV[i]] = true end
local stale = {}
for _, id in ipairs(redis.call('SMEMBERS', nodeKey(NODE, 'members'))) do
  if not known[id] then stale[#stale + 1] = tonumber(id) end
end
table.sort(stale)
local notices = {}
for i, id in ipairs(stale) do
  redis.call('SREM', nodeKey(NODE, 'members'), id)
  notices[i] = leaveNotice(id, ARGV[6])
end
local said = table.concat(notices)
if #said > 0 then append(NODE, said) end
local last = redis.call('XREVRANGE', PREFIX .. 'stream', '+', '-', 'COUNT', 1)
return {#stale, last[1] and last[1][1] or '0-0'}
