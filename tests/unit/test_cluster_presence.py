"""
Presence (L{chat.cluster.presence}): heartbeats, burials put off after a
lapse, a node buried by the others expelled.
"""

from __future__ import annotations

from chat.cluster.scripts import APPEND, HEARTBEAT, REJOIN
from tests.support.clusterfakes import Harness


def test_heartbeatBuriesOnlyAfterATtlBackInTouch() -> None:
    """
    A heartbeat buries the nodes that are gone only once this node has been
    in the cluster for a TTL; each burial is logged with the node and its
    count of clients.
    """
    harness = Harness()
    harness.joinCluster()
    harness.clock.advance(1.0)
    assert harness.command.answer(HEARTBEAT, [1, 0])[-2] == b"0"
    harness.clock.advance(2.0)
    assert harness.command.answer(HEARTBEAT, [1, 0, b"dead", 2])[-2] == b"1"
    (event,) = harness.logged("is gone")
    assert (event["node"], event["count"]) == ("dead", 2)


def test_ownPresenceLapsedPutsBurialsOff() -> None:
    """
    When this node's own presence had lapsed it is logged, and no node is
    buried until a TTL after.
    """
    harness = Harness()
    harness.joinCluster()
    harness.clock.advance(3.0)
    assert harness.command.answer(HEARTBEAT, [0, 0])[-2] == b"1"
    assert harness.logged("presence had lapsed")
    harness.clock.advance(1.0)
    assert harness.command.answer(HEARTBEAT, [1, 0])[-2] == b"0"


def test_noHeartbeatWhileAway() -> None:
    """
    No heartbeat is sent while Redis is away; they start again once the node
    is back.
    """
    harness = Harness()
    harness.joinCluster()
    harness.command.lose()
    harness.clock.advance(10.0)
    assert harness.command.sent == []
    harness.command.connect()
    harness.command.answerLoads()
    harness.command.answer(REJOIN, [0, b"1-0"])
    harness.clock.advance(1.0)
    assert harness.command.scripts(HEARTBEAT)


def test_buriedNodeIsExpelledAndJoinsAnew() -> None:
    """
    A node the others buried is expelled at its next heartbeat: it refuses
    newcomers, rejoins under a new name, and what its clients sent before is
    dropped.
    """
    harness = Harness()
    harness.joinCluster()
    old = harness.peers.node
    harness.room.ids = [0, 1]
    harness.peers.publish(b"client 0: sent\n")
    harness.clock.advance(1.0)
    harness.peers.publish(b"client 0: late\n")
    harness.command.answer(HEARTBEAT, [-1])
    harness.command.answer(APPEND, -1)  # the same news, for the old name
    assert harness.room.expelled == 1
    assert not harness.peers.accepting
    assert harness.peers.node != old
    (rejoin, _), *_ = harness.command.scripts(REJOIN)
    assert rejoin[4] == harness.peers.node.encode()
    harness.room.ids = []
    harness.command.answer(REJOIN, [0, b"9-0"])
    assert harness.peers.accepting
    assert len(harness.logged("joined the cluster")) == 2
    assert harness.logged("took this node for dead")
    harness.endRound()
    # What its clients sent before it was expelled is dropped.
    assert harness.command.scripts(APPEND) == []
