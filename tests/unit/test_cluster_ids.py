"""
Client ids in a cluster, without Redis: a node asks Redis for ids above
every id it has seen, so that none is handed out twice even when Redis has
come back without its data.
"""

from __future__ import annotations

from chat.cluster.scripts import HEARTBEAT, JOIN, REJOIN
from chat.core import wire
from tests.support.clusterfakes import Harness


def floorOfNextJoin(harness: Harness) -> int:
    """The floor a new client's numbering gives the JOIN script."""
    harness.peers.join()
    command, _ = harness.command.scripts(JOIN)[-1]
    return int(command[-1])


def test_joinAsksForAnIdAboveEveryIdSeen() -> None:
    """
    The floor is the highest id the node has seen: among its own clients,
    in the stream (arrivals, private entries) and in presence (the
    heartbeat's highest id handed out).
    """
    harness = Harness()
    harness.joinCluster()
    assert floorOfNextJoin(harness) == -1
    harness.room.ids = [4]
    assert floorOfNextJoin(harness) == 4
    harness.xread((b"1-0", b"other", wire.arrived(9), b"i", b"9"))
    assert floorOfNextJoin(harness) == 9
    harness.xread((b"2-0", b"other", b"x (private): hi\n", b"t", b"12"))
    assert floorOfNextJoin(harness) == 12
    harness.clock.advance(1.0)
    harness.command.answer(HEARTBEAT, [1, 20])
    assert floorOfNextJoin(harness) == 20
    harness.clock.advance(1.0)
    harness.command.answer(HEARTBEAT, [1, -1])  # Redis came back empty
    assert floorOfNextJoin(harness) == 20


def test_ownIdsCountBeforeTheirArrivalIsRead() -> None:
    """An id handed out here and not yet delivered is part of the floor."""
    harness = Harness()
    harness.joinCluster()
    harness.peers.join()
    harness.command.answer(JOIN, [7, b"5-0", 0])
    assert floorOfNextJoin(harness) == 7


def test_rejoinMovesTheIdsPastEveryIdSeen() -> None:
    """
    Back after losing Redis, the node gives the floor to its rejoin, so
    that the ids move forward before any node numbers a client.
    """
    harness = Harness()
    harness.joinCluster()
    harness.xread((b"1-0", b"other", wire.arrived(6), b"i", b"6"))
    harness.command.lose()
    harness.command.connect()
    harness.command.answerLoads()
    _, leaveFormat, floor, *known = harness.command.answer(REJOIN, [0, b"1-0"])
    assert (leaveFormat, floor, known) == (wire.LEFT_AS, 6, [])
