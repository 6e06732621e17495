"""
Appending to the stream (L{chat.cluster.appender}): one entry a round, a
queue while Redis is away, sent again once, input held while it is full.
"""

from __future__ import annotations

from chat.cluster.scripts import APPEND, REJOIN, RETIRE
from chat.core import wire
from tests.support.clusterfakes import Harness


def test_roundGoesOutAsOneEntry() -> None:
    """
    What the room publishes in one round, departures included, is appended
    to the stream as one entry, by one call, with who said each line (the
    server said the leave notice).
    """
    harness = Harness()
    harness.joinCluster()
    harness.peers.publish(b"client 0: a\n", 0)
    harness.peers.publish(b"client 1: b\nclient 1: c\n", 1)
    harness.peers.leave(1)
    harness.endRound()
    args = harness.command.answer(APPEND, 1)
    data = b"client 0: a\nclient 1: b\nclient 1: c\n" + wire.left(1)
    assert args == (1, data, b"0:1,1:2,:1", 1, 1)
    assert harness.command.scripts(APPEND) == []


def test_queuedWhileAwayThenSentOnce() -> None:
    """
    An entry sent just before the connection broke is sent again with the
    same sequence number; what was queued meanwhile goes out as one entry.
    """
    harness = Harness()
    harness.joinCluster()
    harness.peers.publish(b"client 0: first\n")
    harness.endRound()
    harness.command.lose()
    assert not harness.peers.accepting
    harness.peers.publish(b"client 0: second\n")
    harness.endRound()
    harness.peers.leave(0)
    harness.endRound()
    assert harness.command.sent == []

    harness.room.ids = [3]
    harness.command.connect()
    harness.command.answerLoads()
    rejoin = harness.command.scripts(REJOIN)[0][0]
    assert rejoin[-2:] == (3, 0)  # ids here, and ids leaving: not stale
    harness.command.answer(REJOIN, [0, b"5-0"])
    first = harness.command.answer(APPEND, 0)  # Redis had it already
    second = harness.command.answer(APPEND, 1)
    assert first == (1, b"client 0: first\n", b":1", 0)
    assert second == (2, b"client 0: second\n" + wire.left(0), b":2", 1, 0)
    assert harness.logged("back in the cluster")
    assert harness.command.scripts(APPEND) == []


def test_fullQueuePausesLocalClients() -> None:
    """
    While the stream cannot be reached and the queue for it is past its
    limit, local clients are not read; once what was queued is appended they
    are read again, each logged.
    """
    harness = Harness(queueLimit=100)
    harness.joinCluster()
    harness.command.lose()
    for _ in range(3):
        harness.peers.publish(b"x" * 40)
        harness.endRound()
    assert harness.room.held
    assert harness.logged("not reading from local clients")
    harness.command.connect()
    harness.command.answerLoads()
    harness.command.answer(REJOIN, [0, b"5-0"])
    harness.command.answer(APPEND, 1)
    assert not harness.room.held
    assert harness.logged("reading from local clients again")


def test_stopSendsTheQueueThenRetires() -> None:
    """
    Stopping appends what is queued, then retires the node from the cluster,
    and is done only then: logged, with the connection and the reader
    stopped.
    """
    harness = Harness()
    harness.joinCluster()
    harness.peers.publish(b"client 0: last words\n")
    stopped: list[None] = []
    harness.peers.stop().addCallback(stopped.append)
    assert harness.command.answer(APPEND, 1) == (1, b"client 0: last words\n", b":1", 0)
    assert stopped == []
    harness.command.answer(RETIRE, 1)
    assert stopped == [None]
    assert harness.logged("left the cluster")
    assert harness.command.stopped and harness.reader.stopped


def test_stopGivesUpOnTheQueueAfterItsGrace() -> None:
    """
    Stopping waits five seconds for the queue to be appended, then gives up
    without retiring, logging how many entries were lost.
    """
    harness = Harness()
    harness.joinCluster()
    harness.peers.publish(b"client 0: never acknowledged\n")
    stopped: list[None] = []
    harness.peers.stop().addCallback(stopped.append)
    harness.clock.advance(4.9)
    assert stopped == []
    harness.clock.advance(0.1)
    assert stopped == [None]
    (event,) = harness.logged("left the cluster without")
    assert event["count"] == 1
    assert harness.command.scripts(RETIRE) == []
