-- Shared by every script (prepended to each): appending to the room's
-- stream within its bounds, and burying a node.
--
-- ARGV of every script: key prefix, node name, how long the stream keeps an
-- entry (milliseconds), how many bytes of data it keeps; then the script's own.

-- TIME makes a script non-deterministic: replicate its effects instead.
if redis.replicate_commands then redis.replicate_commands() end

local PREFIX, NODE = ARGV[1], ARGV[2]
local KEEP_MS, KEEP_BYTES = tonumber(ARGV[3]), tonumber(ARGV[4])

local function nodeKey(node, name)
  return PREFIX .. 'node:' .. node .. ':' .. name
end

-- Message ids (chat mode): one a line of the entries for everyone, in the
-- stream's order, the same on every node.  The last one handed out is the
-- value of 'messages'; the next is above it and above the time (ms) times
-- a thousand, so that ids go on increasing when Redis comes back empty.
-- Returns the first id for the lines of data and the last one before it,
-- as strings of digits (a Lua number would be written with an exponent).
-- When Redis has no last id (a new room, or Redis came back empty), the
-- one before is said to be the first's own predecessor: no id of before
-- is taken for one the room still has.
local function messageIds(data, ms)
  local key = PREFIX .. 'messages'
  local last = tonumber(redis.call('GET', key) or '0')
  local _, lines = string.gsub(data, '\n', '')
  local first = math.max(last, ms * 1000) + 1
  redis.call('SET', key, string.format('%.0f', first + lines - 1))
  local previous = last > 0 and last or first - 1
  return string.format('%.0f', first), string.format('%.0f', previous)
end

-- Appends data as node's entry; drops the oldest entries, except this one,
-- while they are older than KEEP_MS or the stream holds more than
-- KEEP_BYTES.  The list 'sizes' has one "id size" item an entry, oldest
-- first, so that trimming never reads the entries themselves.  An entry
-- may have more fields, given as a list of names and values: 't' the client
-- it is for alone (a private message), 's' its sequence number (the node's
-- output), 'o' who said its lines (the node's output), 'i' the client it
-- announces.  An entry for everyone has its messages' ids (chat mode): 'm'
-- the first (the next ones follow it, one a line), 'p' the last id before it.
local function append(node, data, fields)
  local stream, sizes, total = PREFIX .. 'stream', PREFIX .. 'sizes', PREFIX .. 'bytes'
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  local entry = {'n', node, 'd', data}
  for _, field in ipairs(fields or {}) do entry[#entry + 1] = field end
  if not (fields and fields[1] == 't') then
    local first, previous = messageIds(data, ms)
    entry[#entry + 1] = 'm'
    entry[#entry + 1] = first
    entry[#entry + 1] = 'p'
    entry[#entry + 1] = previous
  end
  local at = redis.call('XADD', stream, '*', unpack(entry))
  redis.call('RPUSH', sizes, at .. ' ' .. #data)
  local bytes = redis.call('INCRBY', total, #data)
  local oldest = ms - KEEP_MS
  local dropped = false
  while true do
    local id, ms, size = string.match(redis.call('LINDEX', sizes, 0), '^((%d+)-%d+) (%d+)$')
    if id == at or (tonumber(ms) >= oldest and bytes <= KEEP_BYTES) then
      if dropped then redis.call('XTRIM', stream, 'MINID', id) end
      return at
    end
    redis.call('LPOP', sizes)
    bytes = redis.call('DECRBY', total, size)
    dropped = true
  end
end

-- Client ids: the next one is the value of 'ids'.  Moves it past floor, the
-- highest id a node has seen, in case Redis lost it.
local function idsAbove(floor)
  local key = PREFIX .. 'ids'
  if tonumber(redis.call('GET', key) or '0') <= floor then
    redis.call('SET', key, floor + 1)
  end
end

-- Nicks: 'names' maps a nick's key (given by the node: what look-alike
-- nicks have in common) to its client's id, 'keys' an id to the key of its
-- nick, 'nicks' an id to the nick as its client wrote it.  An account's
-- name (with logins) is held by all its sessions, the set 'sessions:KEY';
-- 'names' has one of them.

-- Frees the nick of client id, if it has one, unless another session of its
-- account keeps it; returns how others know it, and whether one does.
local function forget(id)
  local nick = redis.call('HGET', PREFIX .. 'nicks', id)
  if not nick then return 'client ' .. id, false end
  -- (A nick claimed by a node of a version before the keys is in lower case.)
  local key = redis.call('HGET', PREFIX .. 'keys', id) or string.lower(nick)
  redis.call('HDEL', PREFIX .. 'keys', id)
  redis.call('HDEL', PREFIX .. 'nicks', id)
  local sessions = PREFIX .. 'sessions:' .. key
  redis.call('SREM', sessions, id)
  local other = redis.call('SRANDMEMBER', sessions)
  if other then
    redis.call('HSET', PREFIX .. 'names', key, other)
    return nick, true
  end
  redis.call('HDEL', PREFIX .. 'names', key)
  return nick, false
end

-- The leave notice of client id, whose nick is freed (leaveFormat: %s); ''
-- while another session of its account stays.
local function leaveNotice(id, leaveFormat)
  local nick, kept = forget(id)
  if kept then return '' end
  return string.format(leaveFormat, nick)
end

-- Announces node's clients on record as gone, once, and forgets the node.
local function bury(node, leaveFormat)
  local ids = redis.call('SMEMBERS', nodeKey(node, 'members'))
  for i, id in ipairs(ids) do ids[i] = tonumber(id) end
  table.sort(ids)
  local notices = {}
  for i, id in ipairs(ids) do notices[i] = leaveNotice(id, leaveFormat) end
  local said = table.concat(notices)
  if #said > 0 then append(node, said) end
  redis.call('DEL', nodeKey(node, 'members'), nodeKey(node, 'sent'), nodeKey(node, 'alive'))
  redis.call('SREM', PREFIX .. 'nodes', node)
  return #ids
end
