"""
Reading the stream (L{chat.cluster.reader}): the other nodes' entries, in
order, from where it was; a new client's id once its arrival is read.
"""

from __future__ import annotations

from chat.cluster.scripts import JOIN, REJOIN
from chat.core import wire
from tests.support.clusterfakes import Harness


def test_readerSkipsOwnEntriesAndCountsReplay() -> None:
    """
    The reader reads on from where the node joined, delivers the other
    nodes' entries but not its own, and after a lost connection reads on
    from the last entry, logging the lines it caught up on.
    """
    harness = Harness()
    harness.joinCluster(lastId=b"7-0")
    assert harness.reader.sent[0][0][-1] == b"7-0"
    node = harness.peers.node.encode()
    harness.xread((b"8-0", node, b"mine\n"), (b"8-1", b"other", b"theirs\n"))
    assert harness.room.delivered == [b"theirs\n"]
    assert harness.reader.sent[-1][0][-1] == b"8-1"
    assert not harness.logged("caught up")

    harness.reader.lose()
    harness.reader.connect()
    assert harness.reader.sent[-1][0][-1] == b"8-1"
    harness.xread((b"9-0", b"other", b"a\nb\n"))
    (event,) = harness.logged("caught up")
    assert event["lines"] == 2


def test_readerWaitsForWhereToStart() -> None:
    """
    The reader reads nothing before the rejoin says where the stream stands,
    then reads from there.
    """
    harness = Harness()
    harness.reader.connect()
    assert harness.reader.sent == []
    harness.command.connect()
    harness.command.answerLoads()
    harness.command.answer(REJOIN, [0, b"3-0"])
    assert [command[-1] for command, _ in harness.reader.sent] == [b"3-0"]


def test_joinWaitsUntilEverythingBeforeItIsDelivered() -> None:
    """
    A newcomer is given its id only once every entry before its arrival has
    been delivered and its arrival read back.
    """
    harness = Harness()
    harness.joinCluster()
    ids: list[int] = []
    harness.peers.join().addCallback(ids.append)
    harness.command.answer(JOIN, [4, b"10-0", 0])
    assert ids == []
    harness.xread((b"9-0", b"other", b"before\n"))
    assert ids == []
    harness.xread((b"10-0", harness.peers.node.encode(), wire.arrived(4)))
    assert ids == [4]
    assert harness.room.delivered == [b"before\n"]


def test_clientWaitingForItsIdIsKnownAtRejoin() -> None:
    """An id handed out but not yet delivered is not announced gone."""
    harness = Harness()
    harness.joinCluster()
    harness.peers.join()
    harness.command.answer(JOIN, [4, b"10-0", 0])
    harness.command.lose()
    harness.command.connect()
    assert harness.command.scripts(REJOIN)[0][0][-1] == 4
