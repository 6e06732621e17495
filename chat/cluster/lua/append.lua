-- ARGV[5]: sequence number; ARGV[6]: data; ARGV[7]: who said its lines
-- (see Appender.origins); ARGV[8...]: ids leaving.
-- Returns 1 appended, 0 appended before, -1 the node is expelled.
if redis.call('EXISTS', nodeKey(NODE, 'expelled')) == 1 then return -1 end
if tonumber(redis.call('GET', nodeKey(NODE, 'sent')) or '0') >= tonumber(ARGV[5]) then
  return 0
end
redis.call('SET', nodeKey(NODE, 'sent'), ARGV[5])
for i = 8, #ARGV do
  redis.call('SREM', nodeKey(NODE, 'members'), ARGV[i])
  forget(ARGV[i])
end
append(NODE, ARGV[6], {'s', ARGV[5], 'o', ARGV[7]})
return 1
