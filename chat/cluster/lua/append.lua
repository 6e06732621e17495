-- ARGV[5]: sequence number; ARGV[6]: data; ARGV[7]: who said its lines
-- (see Appender.origins); ARGV[8]: how many ids leave, ARGV[9...] they; then
-- pairs of the id of a client of an account that leaves and its leave
-- notice, appended once the account's last session has left.
-- Returns 1 appended, 0 appended before, -1 the node is expelled.
if redis.call('EXISTS', nodeKey(NODE, 'expelled')) == 1 then return -1 end
if tonumber(redis.call('GET', nodeKey(NODE, 'sent')) or '0') >= tonumber(ARGV[5]) then
  return 0
end
redis.call('SET', nodeKey(NODE, 'sent'), ARGV[5])
local sessionsFrom = 9 + tonumber(ARGV[8])
for i = 9, sessionsFrom - 1 do
  redis.call('SREM', nodeKey(NODE, 'members'), ARGV[i])
  forget(ARGV[i])
end
if #ARGV[6] > 0 then append(NODE, ARGV[6], {'s', ARGV[5], 'o', ARGV[7]}) end
-- Every node, this one included, is told of the last session's leaving:
-- the entry is nobody's ('').
for i = sessionsFrom, #ARGV, 2 do
  redis.call('SREM', nodeKey(NODE, 'members'), ARGV[i])
  local _, kept = forget(ARGV[i])
  if not kept then append('', ARGV[i + 1]) end
end
return 1
