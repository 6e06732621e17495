"""
Cluster mode (SPEC section 6): several server processes, the nodes, share
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
    announced if and only if its node has it on record.
  - Entries not yet acknowledged by Redis are queued, in order, and sent
    again after a reconnection.  Every entry carries a sequence number and
    Redis keeps the last one it appended per node, so an entry that did
    reach Redis before the connection broke is not appended twice.
  - The reader resumes from the last entry it delivered, so nothing is missed
    or delivered twice, however long Redis was away (as long as the stream,
    trimmed to C{MAXLEN ~}, still holds that entry).
  - Every node refreshes a presence key with a TTL.  A node whose key has
    expired is buried by the first other node to notice: one script announces
    the clients it had on record as gone, forgets the node and marks it
    expelled, so it happens once.  A node that finds itself expelled (it was
    cut off from Redis for longer than the TTL) disconnects its clients,
    whose leave notices went out already, and joins again as a new node.

Everything that must not be torn apart runs in a Lua script, which Redis
runs atomically.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import txredisapi  # type: ignore[import-untyped]
from twisted.internet import defer
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from chat import wire

NODE_TTL = 3.0
"""Seconds a node stays alive for the others without a heartbeat."""

QUEUE_LIMIT = 64 << 20
"""Bytes queued for Redis past which the node stops reading its clients."""

STREAM_LENGTH = 100_000
"""Entries the stream keeps, about (C{MAXLEN ~}): how far a node may lag."""

ENTRY_SIZE = 1 << 20
"""Bytes queued while Redis is away that are put together in one entry."""

READ_COUNT = 256
"""Entries one C{XREAD} returns at most."""

BLOCK_MS = 1000
"""How long one C{XREAD} waits for new entries, in milliseconds."""

REPLY_TIMEOUT = 5.0
"""Seconds without a reply after which a connection is dropped and redone."""

EXPELLED_FOR = 86400
"""Seconds Redis remembers that a node was buried."""


class Member(Protocol):
    """What the bus calls back: the room of the node."""

    def deliverRemote(self, data: bytes) -> None:
        """Send C{data}, from other nodes, to every local client."""

    def localIds(self) -> Iterable[int]:
        """The ids of the clients connected to this node."""

    def holdInput(self) -> None:
        """Stop reading from the local clients: the queue is full."""

    def releaseInput(self) -> None:
        """Read from the local clients again."""

    def expel(self) -> None:
        """
        Disconnect every local client: the cluster has announced them gone.
        """


class Link(Protocol):
    """One connection to Redis, made again whenever it is lost."""

    def start(self, up: Callable[[], None], down: Callable[[], None]) -> None:
        """Connect; call C{up} each time the connection is ready, C{down}
        each time it is lost."""

    def execute(self, *command: bytes | int) -> Deferred[Any]:
        """Send C{command}; the reply, or a L{txredisapi.ConnectionError}."""

    def reset(self) -> None:
        """Drop the connection, so that it is made anew."""

    def stop(self) -> Deferred[None]:
        """Close the connection and stop making it."""


@dataclass(frozen=True)
class RedisAddress:
    """Where the Redis server is, from C{redis://HOST:PORT/DB}."""

    host: str
    port: int
    db: int

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        """
        @raise ValueError: with the reason, when C{url} is not a Redis URL.
        """
        parts = urlsplit(url)
        if parts.scheme != "redis" or not parts.hostname:
            raise ValueError("not a redis://HOST:PORT/DB URL")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("only redis://HOST:PORT/DB is supported")
        database = parts.path.lstrip("/") or "0"
        if not database.isdigit():
            raise ValueError(f"database {database!r} is not a number")
        try:
            port = parts.port or 6379
        except ValueError as bad:
            raise ValueError(str(bad)) from None
        return cls(parts.hostname, port, int(database))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{host}:{self.port}/{self.db}"


class _Factory(txredisapi.RedisFactory):
    """One connection, replies as bytes, tells its link when it is up or down."""

    initialDelay = 0.2
    maxDelay = 1.0
    """Short: after a Redis restart every node should be back within a
    second, well within L{NODE_TTL}, or the others would bury it."""

    def __init__(
        self, db: int, up: Callable[[], None], down: Callable[[], None]
    ) -> None:
        super().__init__(
            None,
            db,
            1,
            isLazy=True,
            charset=None,
            convertNumbers=False,
            replyTimeout=REPLY_TIMEOUT,
        )
        self._up = up
        self._down = down

    def addConnection(self, conn: Any) -> None:
        super().addConnection(conn)
        if conn in self.pool:
            self._up()

    def delConnection(self, conn: Any) -> None:
        super().delConnection(conn)
        self._down()


class RedisLink:
    """A L{Link} through txredisapi, which reconnects with a backoff."""

    def __init__(self, reactor: Any, address: RedisAddress) -> None:
        self._reactor = reactor
        self._address = address
        self._factory: _Factory | None = None

    def start(self, up: Callable[[], None], down: Callable[[], None]) -> None:
        self._factory = _Factory(self._address.db, up, down)
        endpoint = HostnameEndpoint(
            self._reactor, self._address.host, self._address.port, timeout=5
        )
        self._factory.startConnecting(endpoint)

    def _connection(self) -> Any:
        pool = self._factory.pool if self._factory is not None else []
        return pool[0] if pool else None

    def execute(self, *command: bytes | int) -> Deferred[Any]:
        connection = self._connection()
        if connection is None:
            return fail(txredisapi.ConnectionError("Not connected"))
        try:
            result: Deferred[Any] = connection.execute_command(*command)
        except txredisapi.ConnectionError as lost:
            return fail(lost)
        return result

    def reset(self) -> None:
        connection = self._connection()
        if connection is not None:
            connection.transport.abortConnection()

    def stop(self) -> Deferred[None]:
        if self._factory is None:
            return succeed(None)
        stopped: Deferred[None] = self._factory.disconnect()
        return stopped


@dataclass(eq=False)
class _Script:
    """A Lua script, run by its SHA-1 once loaded on a connection."""

    source: bytes
    sha: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.sha = hashlib.sha1(self.source).hexdigest().encode()


_BURY = b"""
local function bury(p, node, maxlen, fmt)
  local np = p .. 'node:' .. node .. ':'
  local ids = redis.call('SMEMBERS', np .. 'members')
  for i, id in ipairs(ids) do ids[i] = tonumber(id) end
  table.sort(ids)
  local notices = {}
  for i, id in ipairs(ids) do notices[i] = string.format(fmt, id) end
  if #notices > 0 then
    redis.call('XADD', p .. 'stream', 'MAXLEN', '~', maxlen, '*',
               'n', node, 'd', table.concat(notices))
  end
  redis.call('DEL', np .. 'members', np .. 'sent', np .. 'alive')
  redis.call('SREM', p .. 'nodes', node)
  return #ids
end
"""

# ARGV: prefix, node, maxlen, arrival format.  Returns {id, entry id}.
JOIN = _Script(
    b"""
local p, node = ARGV[1], ARGV[2]
local id = redis.call('INCR', p .. 'ids') - 1
redis.call('SADD', p .. 'node:' .. node .. ':members', id)
local at = redis.call('XADD', p .. 'stream', 'MAXLEN', '~', ARGV[3], '*',
                      'n', node, 'd', string.format(ARGV[4], id))
return {id, at}
"""
)

# ARGV: prefix, node, maxlen, sequence number, data, ids leaving...
# Returns 1 appended, 0 appended before, -1 the node is expelled.
APPEND = _Script(
    b"""
local p, node = ARGV[1], ARGV[2]
local np = p .. 'node:' .. node .. ':'
if redis.call('EXISTS', np .. 'expelled') == 1 then return -1 end
if tonumber(redis.call('GET', np .. 'sent') or '0') >= tonumber(ARGV[4]) then
  return 0
end
redis.call('SET', np .. 'sent', ARGV[4])
for i = 6, #ARGV do redis.call('SREM', np .. 'members', ARGV[i]) end
redis.call('XADD', p .. 'stream', 'MAXLEN', '~', ARGV[3], '*',
           'n', node, 'd', ARGV[5])
return 1
"""
)

# ARGV: prefix, node, ttl ms, maxlen, leave format, ids known here...
# Returns {-1, ''} if expelled, else {ids announced gone, last entry id}.
REJOIN = _Script(
    b"""
local p, node = ARGV[1], ARGV[2]
local np = p .. 'node:' .. node .. ':'
if redis.call('EXISTS', np .. 'expelled') == 1 then return {-1, ''} end
redis.call('SET', np .. 'alive', '1', 'PX', ARGV[3])
redis.call('SADD', p .. 'nodes', node)
local known = {}
for i = 6, #ARGV do known[ARGV[i]] = true end
local stale = {}
for _, id in ipairs(redis.call('SMEMBERS', np .. 'members')) do
  if not known[id] then stale[#stale + 1] = tonumber(id) end
end
table.sort(stale)
local notices = {}
for i, id in ipairs(stale) do
  redis.call('SREM', np .. 'members', id)
  notices[i] = string.format(ARGV[5], id)
end
if #notices > 0 then
  redis.call('XADD', p .. 'stream', 'MAXLEN', '~', ARGV[4], '*',
             'n', node, 'd', table.concat(notices))
end
local last = redis.call('XREVRANGE', p .. 'stream', '+', '-', 'COUNT', 1)
return {#stale, last[1] and last[1][1] or '0-0'}
"""
)

# ARGV: prefix, node, ttl ms, maxlen, leave format, '1' to bury dead nodes,
# seconds to remember a burial.  Returns {-1} if expelled; {0} if this node's
# own presence had lapsed (Redis or this node stalled: the others' may have
# lapsed for the same reason, so nobody is buried); else {1, node, clients,
# node, clients...} for the nodes buried.
HEARTBEAT = _Script(
    _BURY
    + b"""
local p, node = ARGV[1], ARGV[2]
local alive = p .. 'node:' .. node .. ':alive'
if redis.call('EXISTS', p .. 'node:' .. node .. ':expelled') == 1 then
  return {-1}
end
local lapsed = redis.call('EXISTS', alive) == 0
redis.call('SET', alive, '1', 'PX', ARGV[3])
redis.call('SADD', p .. 'nodes', node)
if lapsed then return {0} end
local buried = {1}
if ARGV[6] == '1' then
  for _, other in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
    if other ~= node
        and redis.call('EXISTS', p .. 'node:' .. other .. ':alive') == 0 then
      buried[#buried + 1] = other
      buried[#buried + 1] = bury(p, other, ARGV[4], ARGV[5])
      redis.call('SET', p .. 'node:' .. other .. ':expelled', '1',
                 'EX', ARGV[7])
    end
  end
end
return buried
"""
)

# ARGV: prefix, node, maxlen, leave format.  Returns the clients announced.
RETIRE = _Script(_BURY + b"return bury(ARGV[1], ARGV[2], ARGV[3], ARGV[4])\n")

SCRIPTS = (JOIN, APPEND, REJOIN, HEARTBEAT, RETIRE)


class NotInClusterError(Exception):
    """The node is not in the cluster now: no id can be handed out."""


@dataclass(eq=False)
class _Entry:
    """
    Output of this node for the stream, queued until Redis acknowledges it.

    @ivar seq: its sequence number once sent, 0 before: an entry sent once is
        sent again unchanged, so that Redis can tell it has it already.
    """

    parts: list[bytes]
    leaving: list[int]
    size: int
    seq: int = 0


def newNodeName() -> str:
    """A name no other node has: the bus keys its records by it."""
    return os.urandom(6).hex()


def _position(entryId: bytes) -> tuple[int, int]:
    milliseconds, _, sequence = entryId.partition(b"-")
    return int(milliseconds), int(sequence or 0)


class Bus:
    """
    This node's side of the cluster: the stream it appends to and reads,
    its presence, and its queue while Redis is away.

    @ivar member: the room it delivers to; set before L{start}.
    @ivar ready: whether the node is in the cluster now, so that new clients
        can have ids.
    @ivar node: this node's name.
    """

    def __init__(
        self,
        room: str,
        command: Link,
        reader: Link,
        clock: IReactorTime,
        log: Logger,
        ttl: float = NODE_TTL,
        queueLimit: int = QUEUE_LIMIT,
        where: str = "Redis",
    ) -> None:
        self.member: Member | None = None
        self.ready = False
        self.node = newNodeName()
        self._room = room
        self._prefix = f"chat:{room}:".encode()
        self._stream = self._prefix + b"stream"
        self._command = command
        self._reader = reader
        self._clock = clock
        self.log = log
        self._ttl = ttl
        self._queueLimit = queueLimit
        self._where = where
        self._round: list[bytes] = []
        self._roundLeaving: list[int] = []
        self._outbox: deque[_Entry] = deque()
        self._queued = 0
        self._held = False
        self._seq = 0
        self._joining: set[int] = set()
        self._joinedAs: str | None = None
        self._lastId: bytes | None = None
        self._waiters: list[tuple[tuple[int, int], Deferred[None]]] = []
        self._reading = False
        self._readerUp = False
        self._replayed: int | None = None
        self._upSince = 0.0
        self._downSince: float | None = None
        self._beating = False
        self._heartbeat = LoopingCall(self._beat)
        self._heartbeat.clock = clock
        self._drained: Deferred[None] | None = None
        self._stopping = False

    # Life

    def start(self) -> None:
        self.log.info(
            "joining room {room} through {where} as node {node}",
            category="cluster",
            room=self._room,
            where=self._where,
            node=self.node,
        )
        self._command.start(self._commandUp, self._commandDown)
        self._reader.start(self._readerConnected, self._readerLost)
        self._clock.callLater(self._ttl, self._stillAway)

    def _stillAway(self) -> None:
        if self._lastId is None and not self._stopping:
            self.log.warn(
                "cannot reach {where} yet: new connections are turned away"
                " until it answers",
                category="cluster",
                where=self._where,
            )

    async def stop(self, grace: float = 5.0) -> None:
        """
        Leave the cluster: send what is queued, within C{grace} seconds,
        then retire, so that the others announce any client still on record
        here as gone.  Without Redis the others will bury this node instead.
        """
        self._stopping = True
        if self._heartbeat.running:
            self._heartbeat.stop()
        self._endRound()
        if self._outbox and self.ready:
            self._drained = Deferred()
            self._drained.addTimeout(grace, self._clock)
            with suppress(defer.TimeoutError):
                await self._drained
        if self.ready and not self._outbox:
            try:
                await self._run(RETIRE, self._args(STREAM_LENGTH, wire.LEFT))
                self.log.info("left the cluster", category="cluster")
            except Exception as failed:  # whatever went wrong, we are stopping
                self.log.warn(
                    "could not retire: {failed}", category="cluster", failed=failed
                )
        else:
            self.log.warn(
                "left the cluster without {where}: {count} entries unsent;"
                " the other nodes will announce its clients gone",
                category="cluster",
                where=self._where,
                count=len(self._outbox),
            )
        self.ready = False
        await self._command.stop()
        await self._reader.stop()

    # What the room asks for

    def join(self) -> Deferred[int]:
        """
        A new client's id, once its arrival is in the stream and every entry
        before it has been delivered here (so that the client receives only
        what comes after its arrival).

        @raise NotInClusterError: (through the Deferred) when the node is not
            in the cluster.
        """
        if not self.ready:
            return fail(NotInClusterError("not in the cluster"))
        reply = self._run(JOIN, self._args(STREAM_LENGTH, wire.ARRIVED))
        return reply.addCallback(self._numbered)

    def _numbered(self, reply: list[Any]) -> Deferred[int]:
        clientId, entryId = int(reply[0]), reply[1]
        self._joining.add(clientId)

        def handOver(_: object) -> int:
            self._joining.discard(clientId)
            return clientId

        return self._whenRead(entryId).addCallback(handOver)

    def publish(self, data: bytes) -> None:
        """Append C{data} to the stream, with the rest of this round."""
        if not self._round:
            self._clock.callLater(0, self._endRound)
        self._round.append(data)

    def leave(self, clientId: int) -> None:
        """Announce that C{clientId}, one of this node's, has gone."""
        self.publish(wire.left(clientId))
        self._roundLeaving.append(clientId)

    # Appending

    def _endRound(self) -> None:
        if not self._round:
            return
        data = b"".join(self._round)
        leaving = self._roundLeaving
        self._round, self._roundLeaving = [], []
        self._queued += len(data)
        last = self._outbox[-1] if self._outbox else None
        if last is not None and not last.seq and last.size < ENTRY_SIZE:
            # Redis is away: one entry for many rounds.
            last.parts.append(data)
            last.leaving.extend(leaving)
            last.size += len(data)
        else:
            entry = _Entry([data], leaving, len(data))
            self._outbox.append(entry)
            if self.ready:
                self._send(entry)
        if self._queued > self._queueLimit and not self._held:
            self._hold()

    def _send(self, entry: _Entry) -> None:
        if not entry.seq:
            self._seq += 1
            entry.seq = self._seq
            entry.parts = [b"".join(entry.parts)]
        args = self._args(STREAM_LENGTH, entry.seq, entry.parts[0], *entry.leaving)
        self._run(APPEND, args).addCallbacks(
            self._appended, self._failed, callbackArgs=(entry,)
        )

    def _appended(self, result: int, entry: _Entry) -> None:
        if not self._outbox or self._outbox[0] is not entry:
            return  # the queue was dropped meanwhile (expelled)
        if result == -1:
            self._expelled(self.node)
            return
        self._outbox.popleft()
        self._queued -= entry.size
        if self._held and self._queued <= self._queueLimit // 2:
            self._release()
        if not self._outbox and self._drained is not None:
            self._drained.callback(None)

    def _hold(self) -> None:
        self._held = True
        self.log.warn(
            "{queued} bytes queued for {where}, more than {limit}:"
            " not reading from local clients until it drains",
            category="cluster",
            queued=self._queued,
            where=self._where,
            limit=self._queueLimit,
        )
        assert self.member is not None
        self.member.holdInput()

    def _release(self) -> None:
        self._held = False
        self.log.info(
            "queue down to {queued} bytes: reading from local clients again",
            category="cluster",
            queued=self._queued,
        )
        assert self.member is not None
        self.member.releaseInput()

    # The command connection

    def _commandUp(self) -> None:
        for script in SCRIPTS:
            self._command.execute(b"SCRIPT", b"LOAD", script.source).addErrback(
                self._failed
            )
        assert self.member is not None
        known = [*self.member.localIds(), *self._joining]
        for entry in self._outbox:
            known.extend(entry.leaving)
        known.extend(self._roundLeaving)
        args = self._args(int(self._ttl * 1000), STREAM_LENGTH, wire.LEFT, *known)
        self._run(REJOIN, args).addCallbacks(
            self._rejoined, self._failed, callbackArgs=(self.node,)
        )

    def _rejoined(self, reply: list[Any], node: str) -> None:
        stale, lastId = int(reply[0]), reply[1]
        if stale == -1:
            self._expelled(node)
            return
        if stale:
            self.log.warn(
                "announced {count} clients gone whose joining was cut short",
                category="cluster",
                count=stale,
            )
        self.ready = True
        self._upSince = self._clock.seconds()
        if self._joinedAs == self.node:
            self._backAgain()
        else:
            self._joinedAs = self.node
            self.log.info(
                "joined the cluster: room {room}, node {node}",
                category="cluster",
                room=self._room,
                node=self.node,
            )
        if self._lastId is None:
            self._lastId = lastId
            self._read()
        for entry in self._outbox:
            self._send(entry)
        if not self._heartbeat.running and not self._stopping:
            self._heartbeat.start(self._ttl / 3, now=False)

    def _backAgain(self) -> None:
        lines = sum(part.count(b"\n") for e in self._outbox for part in e.parts)
        away = self._clock.seconds() - (self._downSince or self._upSince)
        self.log.info(
            "back in the cluster after {away:.1f} s: sending {lines} queued lines",
            category="cluster",
            away=away,
            lines=lines,
        )
        self._downSince = None

    def _commandDown(self) -> None:
        if self.ready:
            self._downSince = self._clock.seconds()
            self.log.warn(
                "lost {where}: serving local clients, queueing what they send;"
                " new connections are turned away",
                category="cluster",
                where=self._where,
            )
        self.ready = False

    def _failed(self, failure: Failure) -> None:
        """
        A command failed.  A lost connection is dealt with when it is made
        again; Redis refusing a command (out of memory, scripts flushed) is
        retried on a fresh connection.
        """
        if failure.check(txredisapi.ConnectionError):
            return
        self.log.error(
            "{where} refused a command: {error}; reconnecting",
            category="cluster",
            where=self._where,
            error=failure.getErrorMessage(),
        )
        self._command.reset()

    def _run(self, script: _Script, args: list[bytes | int]) -> Deferred[Any]:
        return self._command.execute(b"EVALSHA", script.sha, 0, *args)

    def _args(self, *rest: bytes | int) -> list[bytes | int]:
        return [self._prefix, self.node.encode(), *rest]

    # Presence

    def _beat(self) -> None:
        if not self.ready or self._beating:
            return
        self._beating = True
        # Right after a Redis restart every presence key may have expired:
        # wait a TTL so that the other nodes are back before burying any.
        mayBury = self._clock.seconds() - self._upSince >= self._ttl
        args = self._args(
            int(self._ttl * 1000),
            STREAM_LENGTH,
            wire.LEFT,
            b"1" if mayBury else b"0",
            EXPELLED_FOR,
        )
        beat = self._run(HEARTBEAT, args)
        beat.addCallbacks(self._beaten, self._failed, callbackArgs=(self.node,))
        beat.addBoth(self._beatOver)

    def _beatOver(self, _: object) -> None:
        self._beating = False

    def _beaten(self, reply: list[Any], node: str) -> None:
        status, *buried = reply
        if status == -1:
            self._expelled(node)
            return
        if status == 0:
            self.log.warn(
                "this node's presence had lapsed (Redis or this node stalled);"
                " no node is taken for dead for {ttl} s",
                category="cluster",
                ttl=self._ttl,
            )
            self._upSince = self._clock.seconds()
        for index in range(0, len(buried), 2):
            self.log.info(
                "node {node} is gone: announced its {count} clients as left",
                category="cluster",
                node=buried[index].decode(),
                count=int(buried[index + 1]),
            )

    def _expelled(self, node: str) -> None:
        """
        The other nodes took C{node}, this one, for dead and announced its
        clients gone: disconnect them, drop what they sent, and join again as
        a new node.
        """
        if node != self.node:
            return  # dealt with already
        self.log.error(
            "the cluster took this node for dead (out of touch for more than"
            " {ttl} s): disconnecting its clients, joining again",
            category="cluster",
            ttl=self._ttl,
        )
        self.ready = False
        self._outbox.clear()
        self._round, self._roundLeaving = [], []
        self._queued = 0
        assert self.member is not None
        self.member.expel()
        if self._held:
            self._release()
        self.node = newNodeName()
        self._seq = 0
        self._commandUp()

    # Reading

    def _readerConnected(self) -> None:
        self._readerUp = True
        self._read()

    def _readerLost(self) -> None:
        self._readerUp = False
        if self._replayed is None and self._lastId is not None:
            self._replayed = 0

    def _read(self) -> None:
        if self._reading or not self._readerUp or self._lastId is None:
            return
        if self._stopping:
            return
        self._reading = True
        command = (b"XREAD", b"COUNT", READ_COUNT, b"BLOCK", BLOCK_MS)
        reply = self._reader.execute(*command, b"STREAMS", self._stream, self._lastId)
        reply.addCallbacks(self._received, self._readFailed)

    def _received(self, reply: list[Any] | None) -> None:
        self._reading = False
        entries = reply[0][1] if reply else []
        node = self.node.encode()
        remote = []
        for _, fields in entries:
            values = dict(zip(fields[::2], fields[1::2], strict=True))
            if values[b"n"] != node:
                remote.append(values[b"d"])
        if entries:
            self._lastId = entries[-1][0]
        if remote:
            data = b"".join(remote)
            assert self.member is not None
            self.member.deliverRemote(data)
            if self._replayed is not None:
                self._replayed += data.count(b"\n")
        if self._replayed is not None and len(entries) < READ_COUNT:
            self.log.info(
                "caught up with the cluster: replayed {lines} lines",
                category="cluster",
                lines=self._replayed,
            )
            self._replayed = None
        self._wake()
        self._read()

    def _readFailed(self, failure: Failure) -> None:
        self._reading = False
        if not failure.check(txredisapi.ConnectionError):
            self.log.error(
                "reading the stream failed: {error}",
                category="cluster",
                error=failure.getErrorMessage(),
            )
            self._reader.reset()

    def _whenRead(self, entryId: bytes) -> Deferred[None]:
        """Fires once every entry up to C{entryId} has been delivered."""
        waiting: Deferred[None] = Deferred()
        self._waiters.append((_position(entryId), waiting))
        self._wake()
        return waiting

    def _wake(self) -> None:
        if not self._waiters or self._lastId is None:
            return
        read = _position(self._lastId)
        due = [waiting for at, waiting in self._waiters if at <= read]
        if due:
            self._waiters = [pair for pair in self._waiters if pair[0] > read]
            for waiting in due:
                waiting.callback(None)
