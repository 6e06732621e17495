"""
The cluster's bus and room without Redis: fake connections whose replies the
tests give, and a Clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import pytest
import txredisapi  # type: ignore[import-untyped]
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.logger import ILogObserver, LogEvent, Logger

from chat import wire
from chat.cluster.bus import APPEND, HEARTBEAT, JOIN, REJOIN, Bus, RedisAddress
from chat.room import ClusterRoom
from tests.fakes import FakeRoom, RecordingTransport


class FakeLink:
    """A connection to a Redis server the test plays."""

    def __init__(self) -> None:
        self.sent: list[tuple[tuple[Any, ...], Deferred[Any]]] = []
        self._up: Callable[[], None] = lambda: None
        self._down: Callable[[], None] = lambda: None
        self.connected = False

    def start(self, up: Callable[[], None], down: Callable[[], None]) -> None:
        self._up, self._down = up, down

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

    def scripts(self, script: Any) -> list[tuple[tuple[Any, ...], Deferred[Any]]]:
        """The runs of C{script} not answered yet."""
        return [
            (command, reply)
            for command, reply in self.sent
            if command[:2] == (b"EVALSHA", script.sha) and not reply.called
        ]

    def answer(self, script: Any, reply: object) -> tuple[Any, ...]:
        """Answer the oldest run of C{script}; return its arguments."""
        command, deferred = self.scripts(script)[0]
        deferred.callback(reply)
        return command[3:]

    def answerLoads(self) -> None:
        for command, reply in self.sent:
            if command[:2] == (b"SCRIPT", b"LOAD") and not reply.called:
                reply.callback(b"sha")


class FakeMember:
    def __init__(self) -> None:
        self.delivered: list[bytes] = []
        self.ids: list[int] = []
        self.held = False
        self.expelled = 0

    def deliverRemote(self, data: bytes) -> None:
        self.delivered.append(data)

    def localIds(self) -> Iterable[int]:
        return self.ids

    def holdInput(self) -> None:
        self.held = True

    def releaseInput(self) -> None:
        self.held = False

    def expel(self) -> None:
        self.expelled += 1


class Harness:
    def __init__(self, queueLimit: int = 1 << 20) -> None:
        self.clock = Clock()
        self.events: list[LogEvent] = []
        log = Logger(observer=cast(ILogObserver, self.events.append))
        self.command, self.reader = FakeLink(), FakeLink()
        self.bus = Bus(
            "main", self.command, self.reader, self.clock, log, queueLimit=queueLimit
        )
        self.member = FakeMember()
        self.bus.member = self.member
        self.bus.start()

    def joinCluster(self, lastId: bytes = b"0-0") -> None:
        self.command.connect()
        self.reader.connect()
        self.command.answerLoads()
        self.command.answer(REJOIN, [0, lastId])

    def endRound(self) -> None:
        self.clock.advance(0)

    def logged(self, text: str) -> list[LogEvent]:
        return [e for e in self.events if text in e["log_format"]]

    def xread(self, *entries: tuple[bytes, bytes, bytes]) -> None:
        """Answer the pending XREAD with (id, node, data) entries."""
        (command, reply), *_ = [pair for pair in self.reader.sent if not pair[1].called]
        assert command[0] == b"XREAD"
        if not entries:
            reply.callback(None)
            return
        stream = [
            [entryId, [b"n", node, b"d", data]] for entryId, node, data in entries
        ]
        reply.callback([[b"chat:main:stream", stream]])


def test_roundGoesOutAsOneEntry() -> None:
    harness = Harness()
    harness.joinCluster()
    harness.bus.publish(b"client 0: a\n")
    harness.bus.publish(b"client 1: b\n")
    harness.bus.leave(1)
    harness.endRound()
    args = harness.command.answer(APPEND, 1)
    node = harness.bus.node.encode()
    assert args == (
        b"chat:main:",
        node,
        100000,
        1,
        b"client 0: a\nclient 1: b\n" + wire.left(1),
        1,
    )


def test_queuedWhileAwayThenSentOnce() -> None:
    """
    An entry sent just before the connection broke is sent again with the
    same sequence number; what was queued meanwhile goes out as one entry.
    """
    harness = Harness()
    harness.joinCluster()
    harness.bus.publish(b"client 0: first\n")
    harness.endRound()
    harness.command.lose()
    assert not harness.bus.ready
    harness.bus.publish(b"client 0: second\n")
    harness.endRound()
    harness.bus.leave(0)
    harness.endRound()
    assert harness.command.sent == []

    harness.member.ids = [3]
    harness.command.connect()
    harness.command.answerLoads()
    rejoin = harness.command.scripts(REJOIN)[0][0]
    assert rejoin[-2:] == (3, 0)  # ids here, and ids leaving: not stale
    harness.command.answer(REJOIN, [0, b"5-0"])
    first = harness.command.answer(APPEND, 0)  # Redis had it already
    second = harness.command.answer(APPEND, 1)
    assert first[3:] == (1, b"client 0: first\n")
    assert second[3:] == (2, b"client 0: second\n" + wire.left(0), 0)
    assert harness.logged("back in the cluster")
    assert harness.command.scripts(APPEND) == []


def test_fullQueuePausesLocalClients() -> None:
    harness = Harness(queueLimit=100)
    harness.joinCluster()
    harness.command.lose()
    for _ in range(3):
        harness.bus.publish(b"x" * 40)
        harness.endRound()
    assert harness.member.held
    assert harness.logged("not reading from local clients")
    harness.command.connect()
    harness.command.answerLoads()
    harness.command.answer(REJOIN, [0, b"5-0"])
    harness.command.answer(APPEND, 1)
    assert not harness.member.held


def test_readerSkipsOwnEntriesAndCountsReplay() -> None:
    harness = Harness()
    harness.joinCluster(lastId=b"7-0")
    assert harness.reader.sent[0][0][-1] == b"7-0"
    node = harness.bus.node.encode()
    harness.xread((b"8-0", node, b"mine\n"), (b"8-1", b"other", b"theirs\n"))
    assert harness.member.delivered == [b"theirs\n"]
    assert harness.reader.sent[-1][0][-1] == b"8-1"

    harness.reader.lose()
    harness.reader.connect()
    assert harness.reader.sent[-1][0][-1] == b"8-1"
    harness.xread((b"9-0", b"other", b"a\nb\n"))
    (event,) = harness.logged("caught up")
    assert event["lines"] == 2


def test_joinWaitsUntilEverythingBeforeItIsDelivered() -> None:
    harness = Harness()
    harness.joinCluster()
    ids: list[int] = []
    harness.bus.join().addCallback(ids.append)
    harness.command.answer(JOIN, [4, b"10-0"])
    assert ids == []
    harness.xread((b"9-0", b"other", b"before\n"))
    assert ids == []
    harness.xread((b"10-0", harness.bus.node.encode(), wire.arrived(4)))
    assert ids == [4]
    assert harness.member.delivered == [b"before\n"]


def test_joinRefusedOutOfCluster() -> None:
    harness = Harness()
    failures: list[object] = []
    harness.bus.join().addErrback(failures.append)
    assert failures


def test_heartbeatBuriesOnlyAfterATtlBackInTouch() -> None:
    harness = Harness()
    harness.joinCluster()
    harness.clock.advance(1.0)
    assert harness.command.answer(HEARTBEAT, [1])[-2] == b"0"
    harness.clock.advance(2.0)
    assert harness.command.answer(HEARTBEAT, [1, b"dead", 2])[-2] == b"1"
    (event,) = harness.logged("is gone")
    assert (event["node"], event["count"]) == ("dead", 2)


def test_ownPresenceLapsedPutsBurialsOff() -> None:
    harness = Harness()
    harness.joinCluster()
    harness.clock.advance(3.0)
    assert harness.command.answer(HEARTBEAT, [0])[-2] == b"1"
    assert harness.logged("presence had lapsed")
    harness.clock.advance(1.0)
    assert harness.command.answer(HEARTBEAT, [1])[-2] == b"0"


def test_unreachableRedisIsLogged() -> None:
    harness = Harness()
    harness.clock.advance(3.0)
    assert harness.logged("cannot reach")


def test_expelledNodeDropsItsClientsAndJoinsAnew() -> None:
    harness = Harness()
    harness.joinCluster()
    old = harness.bus.node
    harness.bus.publish(b"client 0: late\n")
    harness.endRound()
    harness.command.answer(APPEND, -1)
    assert harness.member.expelled == 1
    assert harness.bus.node != old
    assert harness.command.scripts(REJOIN)[0][0][4] == harness.bus.node.encode()
    harness.command.answer(REJOIN, [0, b"9-0"])
    assert len(harness.logged("joined the cluster")) == 2
    assert not harness.logged("back in the cluster")


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6380/2", ("127.0.0.1", 6380, 2)),
        ("redis://localhost", ("localhost", 6379, 0)),
        ("redis://[::1]:7000/", ("::1", 7000, 0)),
    ],
)
def test_redisAddress(url: str, address: tuple[str, int, int]) -> None:
    parsed = RedisAddress.parse(url)
    assert (parsed.host, parsed.port, parsed.db) == address


@pytest.mark.parametrize(
    "url", ["http://x", "redis://", "redis://h:99999", "redis://h/x", "redis://u:p@h"]
)
def test_badRedisAddress(url: str) -> None:
    with pytest.raises(ValueError):
        RedisAddress.parse(url)


class FakeBus:
    def __init__(self) -> None:
        self.ready = True
        self.joins: list[Deferred[int]] = []
        self.published: list[bytes] = []
        self.left: list[int] = []

    def join(self) -> Deferred[int]:
        self.joins.append(Deferred())
        return self.joins[-1]

    def publish(self, data: bytes) -> None:
        self.published.append(data)

    def leave(self, clientId: int) -> None:
        self.left.append(clientId)


def clusterRoom() -> tuple[FakeRoom, FakeBus, ClusterRoom]:
    fake = FakeRoom()
    bus = FakeBus()
    room = ClusterRoom(fake.room.log, fake.clock, bus)
    fake.room = room
    return fake, bus, room


def test_newcomerWaitsForItsId() -> None:
    fake, bus, room = clusterRoom()
    client, transport = fake.connect()
    assert transport.producerState == "paused"
    assert room.clients == {}
    client.dataReceived(b"early\n")
    bus.joins[0].callback(7)
    assert transport.producerState == "producing"
    assert room.clients == {7: client}
    assert bus.published == [b"client 7: early\n"]


def test_newcomerSeesArrivalsAndLinesFromOtherNodes() -> None:
    fake, bus, room = clusterRoom()
    first, firstTransport = fake.connect()
    bus.joins[0].callback(0)
    second, secondTransport = fake.connect()
    bus.joins[1].callback(1)
    assert fake.received(firstTransport) == wire.arrived(1)
    room.deliverRemote(wire.arrived(2) + b"client 2: hi\n")
    expected = wire.arrived(2) + b"client 2: hi\n"
    assert fake.received(firstTransport) == expected
    assert fake.received(secondTransport) == expected
    fake.disconnect(first)
    assert bus.left == [0]
    assert fake.received(secondTransport) == wire.left(0)


def test_goneBeforeItsIdIsAnnouncedGone() -> None:
    fake, bus, room = clusterRoom()
    client, _ = fake.connect()
    fake.disconnect(client)
    bus.joins[0].callback(5)
    assert bus.left == [5]
    assert room.clients == {}


def test_turnedAwayOutOfCluster() -> None:
    fake, bus, room = clusterRoom()
    bus.ready = False
    transport = fake.transport()
    protocol = room.buildProtocol(transport.getPeer())
    protocol.makeConnection(transport)
    assert transport.value() == wire.NO_CLUSTER
    assert transport.disconnecting


def test_idFailsThenTurnedAway() -> None:
    fake, bus, room = clusterRoom()
    client, transport = fake.connect()
    bus.joins[0].errback(txredisapi.ConnectionError("Lost connection"))
    assert isinstance(transport, RecordingTransport)
    assert transport.value() == wire.NO_CLUSTER
    assert transport.disconnecting
