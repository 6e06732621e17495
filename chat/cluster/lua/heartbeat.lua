-- ARGV[5]: presence TTL, ms; ARGV[6]: leave notice format; ARGV[7]: '1' to
-- bury dead nodes; ARGV[8]: seconds to remember a burial.
-- Returns {-1} if expelled; {0, highest} if this node's own presence had
-- lapsed (Redis or this node stalled: the others' may have lapsed for the
-- same reason, so nobody is buried); else {1, highest, node, clients, node,
-- clients...} for the nodes buried; highest is the highest client id handed
-- out (-1 for none).
if redis.call('EXISTS', nodeKey(NODE, 'expelled')) == 1 then return {-1} end
local lapsed = redis.call('EXISTS', nodeKey(NODE, 'alive')) == 0
redis.call('SET', nodeKey(NODE, 'alive'), '1', 'PX', ARGV[5])
redis.call('SADD', PREFIX .. 'nodes', NODE)
local highest = tonumber(redis.call('GET', PREFIX .. 'ids') or '0') - 1
if lapsed then return {0, highest} end
local buried = {1, highest}
if ARGV[7] == '1' then
  for _, other in ipairs(redis.call('SMEMBERS', PREFIX .. 'nodes')) do
    if other ~= NODE and redis.call('EXISTS', nodeKey(other, 'alive')) == 0 then
      buried[#buried + 1] = other
      buried[#buried + 1] = bury(other, ARGV[6])
      redis.call('SET', nodeKey(other, 'expelled'), '1', 'EX', ARGV[8])
    end
  end
end
return buried
