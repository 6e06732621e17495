"""
The node's states in the cluster (L{chat.cluster.membership}): connecting,
joining, in the cluster, away, returning, expelled, leaving.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.logger import Logger, LogLevel

from chat.cluster.membership import NotInClusterError
from chat.cluster.peers import ClusterPeers
from chat.cluster.scripts import APPEND, REJOIN
from tests.support.clusterfakes import FakeLink, Harness


def idOf(joined: Deferred[int]) -> object:
    """What C{joined} fired with: an id, or the failure's exception."""
    results: list[object] = []
    joined.addCallbacks(results.append, lambda failure: results.append(failure.value))
    return results[0] if results else None


def test_unreachableRedisIsLoggedAndNewcomersRefused() -> None:
    """
    While Redis cannot be reached newcomers are refused as not in the
    cluster, and after three seconds it is logged that Redis cannot be
    reached.
    """
    harness = Harness()
    assert not harness.peers.accepting
    assert isinstance(idOf(harness.peers.join()), NotInClusterError)
    harness.clock.advance(2.9)
    assert not harness.logged("cannot reach")
    harness.clock.advance(0.1)
    (event,) = harness.logged("cannot reach")
    assert event["where"] == "Redis"


def test_refusalIsLoggedWithItsReasonOnce() -> None:
    """
    Redis turning the connection down is logged once as an error with its
    reason, whichever connection and however often, and not as unreachable;
    another reason is logged again.
    """
    harness = Harness()
    for _ in range(3):
        harness.command.refuse("NOAUTH Authentication required.")
    harness.reader.refuse("NOAUTH Authentication required.")
    (event,) = harness.logged("turned the connection down")
    assert event["reason"] == "NOAUTH Authentication required."
    assert event["log_level"] == LogLevel.error
    harness.clock.advance(3.0)
    assert not harness.logged("cannot reach")
    harness.command.refuse("ERR DB index is out of range")
    assert len(harness.logged("turned the connection down")) == 2


def test_refusalLoggedAgainAfterAnAcceptedConnection() -> None:
    """The same refusal is logged again once a connection was accepted in between."""
    harness = Harness()
    harness.command.refuse("NOAUTH Authentication required.")
    harness.joinCluster()
    harness.command.lose()
    harness.command.refuse("NOAUTH Authentication required.")
    assert len(harness.logged("turned the connection down")) == 2


def test_lostThenBack() -> None:
    """
    A node that loses Redis logs it and refuses newcomers; it is back in the
    cluster only once its rejoin is answered, logged with the time it was
    away, without joining anew.
    """
    harness = Harness()
    harness.joinCluster()
    assert harness.peers.accepting
    harness.clock.advance(5.0)
    harness.command.lose()
    assert not harness.peers.accepting
    assert harness.logged("lost {where}: serving local clients")
    harness.clock.advance(2.0)
    harness.command.connect()
    assert not harness.peers.accepting  # REJOIN not answered yet
    harness.command.lose()
    harness.command.connect()
    harness.command.answerLoads()
    harness.command.answer(REJOIN, [0, b"9-0"])
    assert harness.peers.accepting
    (event,) = harness.logged("back in the cluster")
    assert event["away"] == 2.0
    assert len(harness.logged("joined the cluster")) == 1


def test_staleClientsAnnouncedGoneAtRejoin() -> None:
    """
    Clients whose joining was cut short are announced gone at the rejoin,
    logged with their count.
    """
    harness = Harness()
    harness.command.connect()
    harness.command.answer(REJOIN, [2, b"0-0"])
    (event,) = harness.logged("whose joining was cut short")
    assert event["count"] == 2


def test_expelledOnReturnDropsItsClientsAndJoinsAnew() -> None:
    """
    A node taken for dead while it was away drops its clients on its return
    and joins anew under a new name: what it queued meanwhile is never
    appended.
    """
    harness = Harness()
    harness.joinCluster()
    old = harness.peers.node
    harness.command.lose()
    harness.peers.publish(b"client 0: queued\n")
    harness.endRound()
    harness.command.connect()
    harness.command.answer(REJOIN, [-1, b""])
    assert harness.room.expelled == 1
    assert harness.peers.node != old
    harness.command.answer(REJOIN, [0, b"9-0"])
    assert harness.command.scripts(APPEND) == []
    assert len(harness.logged("joined the cluster")) == 2
    assert not harness.logged("back in the cluster")


def test_expelledByAnAppend() -> None:
    """
    An append refused because the node was taken for dead expels it: its
    clients are dropped and it rejoins under a new name.
    """
    harness = Harness()
    harness.joinCluster()
    harness.peers.publish(b"client 0: late\n")
    harness.endRound()
    harness.command.answer(APPEND, -1)
    assert harness.room.expelled == 1
    assert harness.command.scripts(REJOIN)[0][0][4] == harness.peers.node.encode()


def test_stopWhileAwayLeavesWithoutRedis() -> None:
    """
    Stopping while Redis is away is done at once, logging the entries left
    unsent; Redis coming back after does nothing.
    """
    harness = Harness()
    harness.joinCluster()
    harness.command.lose()
    harness.peers.publish(b"client 0: stranded\n")
    stopped: list[None] = []
    harness.peers.stop().addCallback(stopped.append)
    assert stopped == [None]
    (event,) = harness.logged("left the cluster without")
    assert event["count"] == 1
    harness.command.connect()  # too late: nothing happens
    assert not harness.peers.accepting
    assert harness.command.scripts(REJOIN) == []


def test_stopBeforeStart() -> None:
    """
    A node that never started stops at once, as often as it is asked, and
    accepts nobody.
    """
    peers = ClusterPeers("main", FakeLink(), FakeLink(), Clock(), Logger())
    stopped: list[None] = []
    peers.stop().addCallback(stopped.append)
    peers.stop().addCallback(stopped.append)
    assert stopped == [None, None]
    assert not peers.accepting
