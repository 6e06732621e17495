"""
Cluster mode (C{--redis}): several server processes, the nodes, share
one room through a Redis server.

The bus is a Redis stream, an ordered and replayable log.  Each node appends
what its clients send (already framed as the other clients receive it) and
reads, with C{XREAD BLOCK} on a connection of its own, every entry after the
last one it delivered; it skips its own, which its clients had at once.  An
entry is the output of one reactor iteration of one node: the nodes that read
it pass its bytes on unchanged, with no work per line.

What stays true when connections break:

  - Ids come from C{INCR} on a room key, in a script that also lists the
    client as the node's and appends its arrival notice: a client is
    announced if and only if its node has it on record.  Each node gives
    the scripts the highest id it has seen, and the key is moved past it
    when it is behind (Redis came back without its data): no id is handed
    out twice.
  - Entries not yet acknowledged by Redis are queued, in order, and sent
    again after a reconnection.  Every entry carries a sequence number and
    Redis keeps the last one it appended per node, so an entry that did
    reach Redis before the connection broke is not appended twice.
  - The reader resumes from the last entry it delivered, so nothing is missed
    or delivered twice, however long Redis was away, as long as the stream
    still holds that entry: it keeps the entries of the last
    L{RETENTION_SECONDS<chat.cluster.commands.RETENTION_SECONDS>}, and at
    most L{RETENTION_BYTES<chat.cluster.commands.RETENTION_BYTES>} of them.
  - Every node refreshes a presence key with a TTL.  A node whose key has
    expired is buried by the first other node to notice: one script announces
    the clients it had on record as gone, forgets the node and marks it
    expelled, so it happens once.  A node that finds itself expelled (it was
    cut off from Redis for longer than the TTL) disconnects its clients,
    whose leave notices went out already, and joins again as a new node.

The parts, one module each: L{address} (the URL), L{link} (a connection,
made again when lost), L{scripts} (the Lua scripts, files in C{lua/}),
L{commands} (the scripts as a node runs them), L{appender} (the queue for
the stream), L{reader} (reading the stream), L{presence} (heartbeats and
burials), L{membership} (the node's states, one state machine) and L{peers}
(all of it as the room's L{IPeers<chat.core.interfaces.IPeers>}).
"""
