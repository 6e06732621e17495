"""
The cluster without Redis: fake connections whose replies the tests give, a
fake room of this node, and a Clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import txredisapi  # type: ignore[import-untyped]
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.logger import ILogObserver, LogEvent, Logger
from zope.interface import implementer

from chat.cluster.peers import ClusterPeers
from chat.cluster.scripts import REJOIN, Script
from chat.core.interfaces import ILocalRoom
from chat.core.messages import Numbering


class FakeLink:
    """A connection to a Redis server the test plays."""

    def __init__(self) -> None:
        self.sent: list[tuple[tuple[Any, ...], Deferred[Any]]] = []
        self._up: Callable[[], None] = lambda: None
        self._down: Callable[[], None] = lambda: None
        self.refuse: Callable[[str], None] = lambda reason: None
        self.connected = False
        self.stopped = False

    def start(
        self,
        up: Callable[[], None],
        down: Callable[[], None],
        refused: Callable[[str], None],
    ) -> None:
        self._up, self._down, self.refuse = up, down, refused

    def execute(self, *command: Any) -> Deferred[Any]:
        reply: Deferred[Any] = Deferred()
        if not self.connected:
            reply.errback(txredisapi.ConnectionError("Not connected"))
        else:
            self.sent.append((command, reply))
        return reply

    def reset(self) -> None:
        self.lose()

    def stop(self) -> Deferred[None]:
        self.stopped = True
        if self.connected:
            self.lose()
        return succeed(None)

    def connect(self) -> None:
        self.connected = True
        self._up()

    def lose(self) -> None:
        self.connected = False
        self._down()
        pending, self.sent = self.sent, []
        for _, reply in pending:
            if not reply.called:
                reply.errback(txredisapi.ConnectionError("Lost connection"))

    def scripts(self, script: Script) -> list[tuple[tuple[Any, ...], Deferred[Any]]]:
        """The runs of C{script} not answered yet."""
        return [
            (command, reply)
            for command, reply in self.sent
            if command[:2] == (b"EVALSHA", script.sha) and not reply.called
        ]

    def answer(self, script: Script, reply: object) -> tuple[Any, ...]:
        """Answer the oldest run of C{script}; return its arguments after
        the key prefix, the node and the stream's bounds."""
        command, deferred = self.scripts(script)[0]
        deferred.callback(reply)
        return command[7:]

    def answerLoads(self) -> None:
        for command, reply in self.sent:
            if command[:2] == (b"SCRIPT", b"LOAD") and not reply.called:
                reply.callback(b"sha")


@implementer(ILocalRoom)
class FakeRoom:
    """This node's room, as the peers see it."""

    def __init__(self) -> None:
        self.delivered: list[bytes] = []
        self.numbered: list[tuple[bytes, Numbering]] = []
        self.keepsMessages = False
        self.keptBefore = 0
        """How many entries L{numberedBefore} takes, when it keeps messages."""
        self.ids: list[int] = []
        self.held = False
        self.expelled = 0

    def deliverRemote(self, data: bytes) -> None:
        self.delivered.append(data)

    def localIds(self) -> list[int]:
        return self.ids

    def holdInput(self) -> None:
        self.held = True

    def releaseInput(self) -> None:
        self.held = False

    def expel(self) -> None:
        self.expelled += 1

    def deliverPrivate(self, clientId: int, data: bytes) -> None:
        self.delivered.append(b"%d <- %s" % (clientId, data))

    def deliverNumbered(self, data: bytes, numbering: Numbering) -> None:
        self.numbered.append((data, numbering))

    def numberedBefore(self, data: bytes, numbering: Numbering) -> bool:
        self.numbered.insert(0, (data, numbering))
        return len(self.numbered) < self.keptBefore


class Harness:
    """Cluster peers on fake links, a fake room and a Clock, started."""

    def __init__(self, queueLimit: int = 1 << 20, keptBefore: int = 0) -> None:
        """
        C{keptBefore}: with it, the room keeps messages, this many entries'
        of those read back as the node starts.
        """
        self.clock = Clock()
        self.events: list[LogEvent] = []
        log = Logger(observer=cast(ILogObserver, self.events.append))
        self.command, self.reader = FakeLink(), FakeLink()
        self.peers = ClusterPeers(
            "main", self.command, self.reader, self.clock, log, queueLimit=queueLimit
        )
        self.room = FakeRoom()
        self.room.keepsMessages = bool(keptBefore)
        self.room.keptBefore = keptBefore
        self.peers.attach(self.room)
        self.peers.start()

    def joinCluster(self, lastId: bytes = b"0-0") -> None:
        self.command.connect()
        self.reader.connect()
        self.command.answerLoads()
        self.command.answer(REJOIN, [0, lastId])

    def endRound(self) -> None:
        self.clock.advance(0)

    def logged(self, text: str) -> list[LogEvent]:
        return [e for e in self.events if text in e["log_format"]]

    def xread(self, *entries: tuple[bytes, ...]) -> None:
        """
        Answer the pending XREAD with (id, node, data, more fields...)
        entries.
        """
        (command, reply), *_ = [pair for pair in self.reader.sent if not pair[1].called]
        assert command[0] == b"XREAD"
        if not entries:
            reply.callback(None)
            return
        stream = [
            [entryId, [b"n", node, b"d", data, *more]]
            for entryId, node, data, *more in entries
        ]
        reply.callback([[b"chat:main:stream", stream]])
