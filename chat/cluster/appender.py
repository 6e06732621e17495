"""
Appending this node's output to the stream: a queue while Redis is away,
sent again in order after a reconnection, never appended twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from chat.cluster.commands import NodeCommands
from chat.core import wire

QUEUE_LIMIT = 64 << 20
"""Bytes queued for Redis past which the node stops reading its clients."""

ENTRY_SIZE = 1 << 20
"""Bytes queued while Redis is away that are put together in one entry."""


def addOrigin(
    origins: list[tuple[int | None, int]], origin: int | None, lines: int
) -> None:
    """Count C{lines} more said by C{origin} at the end of C{origins}."""
    if origins and origins[-1][0] == origin:
        origins[-1] = (origin, origins[-1][1] + lines)
    elif lines:
        origins.append((origin, lines))


def encodeOrigins(origins: list[tuple[int | None, int]]) -> bytes:
    """
    C{origins} as an entry's field C{o}: C{ID:LINES} for each client in
    turn, separated by commas; the server's lines have no C{ID}
    (C{3:2,:1,5:1}).
    """
    return b",".join(
        b"%s:%d" % (b"" if origin is None else b"%d" % origin, lines)
        for origin, lines in origins
    )


def decodeOrigins(field: bytes) -> list[tuple[int | None, int]]:
    """The origins of an entry's field C{o} (see L{encodeOrigins})."""
    origins: list[tuple[int | None, int]] = []
    for part in field.split(b",") if field else ():
        origin, _, lines = part.partition(b":")
        origins.append((int(origin) if origin else None, int(lines)))
    return origins


@dataclass(eq=False)
class _Entry:
    """
    Output of this node for the stream, queued until Redis acknowledges it.

    @ivar seq: its sequence number once sent, 0 before: an entry sent once is
        sent again unchanged, so that Redis can tell it has it already.
    @ivar node: the name of the node that sent it, once sent.
    @ivar origins: who said its lines, in order: the client (L{None} for the
        server), and how many lines in a row.
    @ivar sessions: the clients logged in to an account that leave after
        its lines, each with its leave notice, for Redis to append once the
        account's last session has left.
    @ivar recorded: whether its lines are in the history already, recorded
        before the entry was read back from the stream.
    """

    parts: list[bytes]
    origins: list[tuple[int | None, int]]
    leaving: list[int]
    size: int
    sessions: list[tuple[int, bytes]] = field(default_factory=list)
    seq: int = 0
    node: bytes = b""
    recorded: bool = False


class Appender:
    """
    What this node's clients send, one entry per reactor iteration, queued
    until Redis has it.  Every entry carries a sequence number, and Redis
    keeps the last one it appended for the node, so that an entry that
    reached Redis just before the connection broke is not appended twice.

    The node's clients have its lines at once, before they are in the
    stream: each entry is kept until it is read back from the stream
    (L{readBack}), so that what the history does not have yet can be
    recorded ahead for a newcomer (L{recordAhead}).

    @ivar queued: bytes not yet acknowledged.
    """

    def __init__(
        self,
        commands: NodeCommands,
        clock: IReactorTime,
        log: Logger,
        hold: Callable[[], None],
        release: Callable[[], None],
        expelled: Callable[[], None],
        queueLimit: int = QUEUE_LIMIT,
        where: str = "Redis",
    ) -> None:
        self._commands = commands
        self._clock = clock
        self._log = log
        self._hold = hold
        self._release = release
        self._expelled = expelled
        self._queueLimit = queueLimit
        self._where = where
        self._round: list[bytes] = []
        self._roundOrigins: list[tuple[int | None, int]] = []
        self._roundSessions: list[tuple[int, bytes]] = []
        self._roundLeaving: list[int] = []
        self._outbox: deque[_Entry] = deque()
        self._unread: deque[_Entry] = deque()
        """Entries not read back from the stream yet, oldest first."""
        self.queued = 0
        self._holding = False
        self._sending = False
        self._seq = 0
        self._drained: list[Deferred[None]] = []

    def publish(self, data: bytes, origin: int | None = None) -> None:
        """
        Append C{data}, lines said by C{origin} (L{None}: the server), to the
        stream, with the rest of this round.
        """
        self._due()
        self._round.append(data)
        addOrigin(self._roundOrigins, origin, data.count(wire.DELIMITER))

    def _due(self) -> None:
        """End the round once this reactor iteration is over."""
        if not self._round and not self._roundSessions:
            self._clock.callLater(0, self.endRound)

    def leave(self, clientId: int, notice: bytes | None = None) -> None:
        """
        Announce that C{clientId}, one of this node's, has gone, with
        C{notice} (by default L{wire.left}); Redis frees its nick then.
        """
        self.publish(notice or wire.left(clientId))
        self._roundLeaving.append(clientId)

    def leaveSession(self, clientId: int, notice: bytes) -> None:
        """
        Announce that C{clientId}, one of this node's logged in to an
        account, has gone: Redis appends C{notice}, for every node, once the
        account's last session has left.
        """
        self._due()
        self._roundSessions.append((clientId, notice))

    def leaving(self) -> list[int]:
        """The clients whose leaving Redis does not have yet."""
        ids = [
            clientId
            for entry in self._outbox
            for clientId in [*entry.leaving, *(s for s, _ in entry.sessions)]
        ]
        return ids + self._roundLeaving + [s for s, _ in self._roundSessions]

    def entries(self) -> int:
        """The entries queued."""
        return len(self._outbox)

    def lines(self) -> int:
        """The lines queued."""
        return sum(part.count(b"\n") for e in self._outbox for part in e.parts)

    def endRound(self) -> None:
        """Queue what was published since the last round, as one entry."""
        if not self._round and not self._roundSessions:
            return
        data = b"".join(self._round)
        leaving, origins = self._roundLeaving, self._roundOrigins
        sessions = self._roundSessions
        self._round, self._roundLeaving, self._roundOrigins = [], [], []
        self._roundSessions = []
        self.queued += len(data)
        last = self._outbox[-1] if self._outbox else None
        if (
            last is not None
            and not last.seq
            and not last.recorded
            and not last.sessions  # whose leaving comes after its lines
            and last.size < ENTRY_SIZE
        ):
            # Redis is away: one entry for many rounds.
            last.parts.append(data)
            for origin, lines in origins:
                addOrigin(last.origins, origin, lines)
            last.leaving.extend(leaving)
            last.sessions.extend(sessions)
            last.size += len(data)
        else:
            entry = _Entry([data], origins, leaving, len(data), sessions)
            self._outbox.append(entry)
            if data:
                self._unread.append(entry)
            if self._sending:
                self._send(entry)
        if self.queued > self._queueLimit and not self._holding:
            self._holdInput()

    def resume(self) -> None:
        """Redis is there: send everything queued, then each entry at once."""
        self._sending = True
        for entry in self._outbox:
            self._send(entry)

    def pause(self) -> None:
        """Redis is away: queue entries until L{resume}."""
        self._sending = False

    def recordAhead(self) -> bytes:
        """
        What this node's clients have had that is not read back from the
        stream yet, and not recorded ahead before: the history records it
        now, and not again when it is read back.
        """
        self.endRound()
        ahead = [b"".join(e.parts) for e in self._unread if not e.recorded]
        for entry in self._unread:
            entry.recorded = True
        return b"".join(ahead)

    def readBack(self, node: bytes, seq: int) -> bool:
        """
        The entry that node C{node} sent as C{seq} was read back from the
        stream: whether it is one of this node's that was recorded ahead.
        This node's entries before it are read back, or lost with Redis'
        data.
        """
        for index, entry in enumerate(self._unread):
            if not entry.seq:
                break
            if entry.seq == seq and entry.node == node:
                for _ in range(index + 1):
                    self._unread.popleft()
                return entry.recorded
        return False

    def drop(self) -> None:
        """
        Forget everything queued: the node is out of the cluster.  What it
        sent and recorded ahead may still be read back, under its old name.
        """
        self._sending = False
        self._outbox.clear()
        self._unread = deque(e for e in self._unread if e.seq and e.recorded)
        self._round, self._roundLeaving, self._roundOrigins = [], [], []
        self._roundSessions = []
        self.queued = 0
        self._seq = 0
        if self._holding:
            self._releaseInput()

    def drain(self, grace: float) -> Deferred[bool]:
        """
        Send what is queued: whether it all reached Redis within C{grace}
        seconds.
        """
        self.endRound()
        if not self._outbox:
            return defer.succeed(True)
        drained: Deferred[None] = Deferred()
        self._drained.append(drained)
        drained.addTimeout(grace, self._clock)
        return drained.addCallbacks(lambda _: True, lambda _: False)

    def _send(self, entry: _Entry) -> None:
        if not entry.seq:
            self._seq += 1
            entry.seq = self._seq
            entry.node = self._commands.node.encode()
            entry.parts = [b"".join(entry.parts)]
        origins = encodeOrigins(entry.origins)
        sent = self._commands.append(
            entry.seq, entry.parts[0], origins, entry.leaving, entry.sessions
        )
        sent.addCallbacks(self._appended, self._commands.failed, (entry,))

    def _appended(self, result: int, entry: _Entry) -> None:
        if not self._outbox or self._outbox[0] is not entry:
            return  # the queue was dropped meanwhile (expelled)
        if result == -1:
            self._expelled()
            return
        self._outbox.popleft()
        self.queued -= entry.size
        if self._holding and self.queued <= self._queueLimit // 2:
            self._releaseInput()
        if not self._outbox:
            drained, self._drained = self._drained, []
            for waiting in drained:
                waiting.callback(None)

    def _holdInput(self) -> None:
        self._holding = True
        self._log.warn(
            "{queued} bytes queued for {where}, more than {limit}:"
            " not reading from local clients until it drains",
            category="cluster",
            queued=self.queued,
            where=self._where,
            limit=self._queueLimit,
        )
        self._hold()

    def _releaseInput(self) -> None:
        self._holding = False
        self._log.info(
            "queue down to {queued} bytes: reading from local clients again",
            category="cluster",
            queued=self.queued,
        )
        self._release()
