"""
Chat for people in a cluster, without Redis: the history read from the
stream and read back from it, private entries, nicks freed on leaving.
"""

from __future__ import annotations

from typing import Any

from chat.cluster.scripts import APPEND, FIND, JOIN, REJOIN
from chat.core import wire
from chat.core.names import nickKey
from chat.people.history import History
from tests.support.clusterfakes import Harness


def pending(harness: Harness, verb: bytes) -> tuple[tuple[Any, ...], Any]:
    (found,) = [
        pair
        for pair in harness.reader.sent
        if pair[0][0] == verb and not pair[1].called
    ]
    return found


def joined(size: int, lastId: bytes, readBack: bool = True) -> tuple[Harness, History]:
    """
    A node that keeps a history of C{size} lines and has joined at
    C{lastId}; with C{readBack}, the stream had nothing to read back.
    """
    harness = Harness()
    history = History(size)
    harness.peers.keepHistory(history)
    harness.joinCluster(lastId=lastId)
    if readBack:
        pending(harness, b"XREVRANGE")[1].callback([])
    return harness, history


def test_historyInStreamOrderWithOwnEntries() -> None:
    """Every node records every entry, its own too, in the stream's order."""
    harness, history = joined(10, b"0-0")
    node = harness.peers.node.encode()
    harness.peers.publish(b"client 0: not recorded until read\n")
    assert len(history) == 0
    harness.xread(
        (b"1-0", b"other", wire.arrived(1) + b"client 1: theirs\n"),
        (b"2-0", node, b"client 0: mine\n"),
    )
    assert harness.room.delivered == [wire.arrived(1) + b"client 1: theirs\n"]
    assert b"".join(history.replay()) == (
        wire.historyStart(2)
        + b"client 1: theirs\nclient 0: mine\n"
        + wire.END_OF_HISTORY
    )


def test_historyReadBackBeforeReading() -> None:
    """A joining node reads the last entries back, then reads on from there."""
    harness, history = joined(3, b"9-0", readBack=False)
    command, reply = pending(harness, b"XREVRANGE")
    assert command[2:4] == (b"9-0", b"-")
    reply.callback(
        [
            [b"9-0", [b"n", b"x", b"d", b"c: four\n" + wire.left(3)]],
            [b"8-0", [b"n", b"x", b"d", b"secret\n", b"t", b"4"]],
            [b"7-0", [b"n", b"x", b"d", b"c: one\nc: two\nc: three\n"]],
        ]
    )
    assert b"".join(history.replay()) == (
        wire.historyStart(3) + b"c: two\nc: three\nc: four\n" + wire.END_OF_HISTORY
    )
    command, _ = pending(harness, b"XREAD")
    assert command[-1] == b"9-0"


def test_historyReadBackResumesAfterALostConnection() -> None:
    """
    Reading the history back resumes after the last entry read when the
    connection is lost midway, and the history holds every page in order.
    """
    harness, history = joined(1000, b"999-0", readBack=False)
    page = [
        [b"%d-0" % n, [b"n", b"x", b"d", b"c: %d\n" % n]] for n in range(999, 743, -1)
    ]
    pending(harness, b"XREVRANGE")[1].callback(page)
    command, _ = pending(harness, b"XREVRANGE")
    assert command[2] == b"(744-0"
    harness.reader.lose()
    harness.reader.connect()
    command, reply = pending(harness, b"XREVRANGE")
    assert command[2] == b"(744-0"
    reply.callback([[b"1-0", [b"n", b"x", b"d", b"c: 1\n"]]])
    assert len(history) == 257
    assert b"".join(history.replay()).startswith(
        wire.historyStart(257) + b"c: 1\nc: 744\n"
    )


def test_privateEntries() -> None:
    """An entry for one client goes to it alone, in order, never to history."""
    harness, history = joined(10, b"0-0")
    _, reply = pending(harness, b"XREAD")
    reply.callback(
        [
            [
                b"chat:main:stream",
                [
                    [b"1-0", [b"n", b"o", b"d", b"c: before\n"]],
                    [b"2-0", [b"n", b"o", b"d", b"al (private): hi\n", b"t", b"5"]],
                    [b"3-0", [b"n", b"o", b"d", b"c: after\n"]],
                ],
            ]
        ]
    )
    assert harness.room.delivered == [
        b"c: before\n",
        b"5 <- al (private): hi\n",
        b"c: after\n",
    ]
    assert len(history) == 2


def test_leaveNoticeWithNick() -> None:
    """The leave notice the room gives is the one appended."""
    harness = Harness()
    harness.joinCluster()
    harness.peers.leave(3, wire.leftAs(b"alice"))
    harness.endRound()
    args = harness.command.answer(APPEND, 1)
    assert args == (1, b"server: alice just left\n", b":1", 1, 3)


def test_buryFormatNamesClients() -> None:
    """Redis fills in a buried client's nick or C{client N}: LEFT_AS."""
    harness = Harness()
    harness.command.connect()
    harness.command.answerLoads()
    args = harness.command.answer(REJOIN, [0, b"0-0"])
    assert args[1] == wire.LEFT_AS


def test_newcomerHasWhatItsNodeSaidBeforeTheStreamGaveItBack() -> None:
    """
    A line a client of this node said before a newcomer entered, which the
    stream gives back only after, is in the newcomer's history, once: the
    history and the live room meet where the newcomer enters.
    """
    harness, history = joined(10, b"0-0")
    node = harness.peers.node.encode()
    harness.peers.publish(b"client 0: 366\n")
    harness.endRound()
    assert harness.command.answer(APPEND, 1)[0] == 1
    harness.xread((b"1-0", node, b"client 0: 366\n", b"s", b"1"))
    replayed: list[bytes] = []
    harness.peers.join().addCallback(
        lambda _: replayed.append(b"".join(history.replay()))
    )
    harness.command.answer(JOIN, [1, b"2-0", 0])
    harness.peers.publish(b"client 0: 367\n")
    harness.endRound()
    harness.xread((b"2-0", node, wire.arrived(1), b"i", b"1"))
    assert replayed == [
        wire.historyStart(2) + b"client 0: 366\nclient 0: 367\n" + wire.END_OF_HISTORY
    ]
    assert harness.command.answer(APPEND, 1)[0] == 2
    harness.xread(
        (b"3-0", node, b"client 0: 367\n", b"s", b"2"),
        (b"4-0", b"other", b"client 2: after\n"),
    )
    assert b"".join(history.replay()) == (
        wire.historyStart(3)
        + b"client 0: 366\nclient 0: 367\nclient 2: after\n"
        + wire.END_OF_HISTORY
    )


def test_linesRecordedAheadWhileAwayAreNotMergedWithLaterOnes() -> None:
    """
    While Redis is away for appending, a newcomer's history takes the
    queued lines; what is said after goes out in an entry of its own, so
    that it is recorded when the stream gives it back.
    """
    harness, history = joined(10, b"0-0")
    node = harness.peers.node.encode()
    harness.peers.join()
    harness.command.answer(JOIN, [1, b"2-0", 0])
    harness.command.lose()
    harness.peers.publish(b"client 0: before\n")
    harness.endRound()
    harness.xread((b"2-0", node, wire.arrived(1), b"i", b"1"))
    harness.peers.publish(b"client 0: after\n")
    harness.endRound()
    harness.command.connect()
    harness.command.answerLoads()
    harness.command.answer(REJOIN, [0, b"2-0"])
    assert harness.command.answer(APPEND, 1)[:2] == (1, b"client 0: before\n")
    assert harness.command.answer(APPEND, 1)[:2] == (2, b"client 0: after\n")
    harness.xread(
        (b"3-0", node, b"client 0: before\n", b"s", b"1"),
        (b"4-0", node, b"client 0: after\n", b"s", b"2"),
    )
    assert b"".join(history.replay()) == (
        wire.historyStart(2)
        + b"client 0: before\nclient 0: after\n"
        + wire.END_OF_HISTORY
    )


def test_sessionsOfAnAccount() -> None:
    """
    A login's account goes with its join; Redis says whether it is another
    session, which the node shares then.  Its leaving is Redis's to
    announce (once the last session is gone, to every node): the room is
    told not to, and the entry carries the notice apart from its lines.
    """
    harness = Harness()
    harness.joinCluster()
    ids: list[int] = []
    harness.peers.join(b"Alice").addCallback(ids.append)
    command, _ = harness.command.scripts(JOIN)[0]
    assert command[-2:] == (nickKey(b"Alice"), b"Alice")
    harness.command.answer(JOIN, [4, b"0-0", 1])
    assert ids == [4]
    assert harness.peers.share(4, b"alice")
    assert not harness.peers.leave(4, b"server: alice just left\n")
    assert harness.peers.leave(5)  # no account: its notice is the room's too
    harness.endRound()
    args = harness.command.answer(APPEND, 1)
    assert args == (1, wire.left(5), b":1", 1, 5, 4, b"server: alice just left\n")


def test_privateMessageToEverySession() -> None:
    """
    Finding a name finds every session of its account: a private message
    goes to each.
    """
    harness = Harness()
    harness.joinCluster()
    found: list[int | None] = []
    harness.peers.find(b"alice").addCallback(found.append)
    harness.command.answer(FIND, [7, 7, 9])
    assert found == [7]
    assert harness.peers.sessions(7) == [7, 9]
    assert harness.peers.sessions(8) == [8]


def test_messagesReadBackBeforeReading() -> None:
    """
    A joining node whose room keeps messages reads the last entries' back,
    newest first, with their numbering, until the room takes no more, the
    entries for one client alone skipped; then it reads on from there.
    """
    harness = Harness(keptBefore=2)
    harness.joinCluster(lastId=b"9-0")
    command, reply = pending(harness, b"XREVRANGE")
    assert command[2:4] == (b"9-0", b"-")
    reply.callback(
        [
            [b"9-0", [b"n", b"x", b"d", b"c: three\n", b"m", b"30", b"p", b"20"]],
            [b"8-0", [b"n", b"x", b"d", b"secret\n", b"t", b"4"]],
            [b"7-0", [b"n", b"x", b"d", b"c: two\n", b"m", b"20", b"p", b"10"]],
            [b"6-0", [b"n", b"x", b"d", b"c: one\n", b"m", b"10", b"p", b"0"]],
        ]
    )
    assert [
        (data, n.first, n.previous, n.time) for data, n in harness.room.numbered
    ] == [
        (b"c: two\n", 20, 10, 7),
        (b"c: three\n", 30, 20, 9),
    ]
    command, _ = pending(harness, b"XREAD")
    assert command[-1] == b"9-0"


def test_nothingReadBackWithoutHistoryOrMessages() -> None:
    """A node that keeps neither reads on from where it joins at once."""
    harness = Harness()
    harness.joinCluster(lastId=b"9-0")
    assert [command[0] for command, _ in harness.reader.sent] == [b"XREAD"]


def test_unreadableEntrySkipped() -> None:
    """
    An entry this node cannot read (its fields are not numbers where they
    must be) is logged and skipped; the entries after it are delivered and
    the stream is read on.
    """
    harness = Harness()
    harness.joinCluster()
    harness.xread(
        (b"1-0", b"other", b"c: bad\n", b"m", b"5", b"p", b"4", b"o", b"x"),
        (b"2-0", b"other", b"c: good\n", b"m", b"6", b"p", b"5", b"o", b"3:1"),
    )
    assert harness.room.delivered == [b"c: good\n"]
    assert [n.first for _, n in harness.room.numbered] == [6]
    assert harness.logged("skipped the stream's entry")
    command, _ = pending(harness, b"XREAD")
    assert command[-1] == b"2-0"


def test_sessionLeavingBeforeItEnteredIsKnownByItsAccount() -> None:
    """
    Another session of an account that leaves before it has entered (it
    was never announced) is known by its account in the notice Redis gives
    if it was the last; a first session, announced by its id alone, by its
    id.
    """
    harness = Harness()
    harness.joinCluster()
    harness.peers.join(b"alice")
    harness.command.answer(JOIN, [7, b"5-0", 1])
    harness.peers.join(b"bob")
    harness.command.answer(JOIN, [8, b"6-0", 0])
    assert not harness.peers.leave(7)
    assert not harness.peers.leave(8)
    harness.endRound()
    args = harness.command.answer(APPEND, 1)
    assert args[-4:] == (7, wire.leftAs(b"alice"), 8, wire.left(8))


def test_linesAfterASessionLeftAreNotMergedBeforeItsNotice() -> None:
    """
    While Redis is away, what is said after a session of an account left is
    queued in an entry of its own, after that leaving, not merged before it.
    """
    harness = Harness()
    harness.joinCluster()
    harness.peers.join(b"alice")
    harness.command.answer(JOIN, [7, b"5-0", 0])
    harness.command.lose()
    harness.peers.publish(b"alice: bye\n", 7)
    harness.peers.leave(7, wire.leftAs(b"alice"))
    harness.endRound()
    harness.peers.publish(b"bob: after\n", 8)
    harness.endRound()
    harness.command.connect()
    harness.command.answerLoads()
    harness.command.answer(REJOIN, [0, b"5-0"])
    first = harness.command.answer(APPEND, 1)
    second = harness.command.answer(APPEND, 1)
    assert first[1] == b"alice: bye\n" and first[-2:] == (7, wire.leftAs(b"alice"))
    assert second[1] == b"bob: after\n"


def test_messagesReadBackWhenKeptOnceStarted() -> None:
    """
    Whether the room keeps messages is asked as the node joins, not as the
    peers start: a room that keeps them from after the start has them read
    back too.
    """
    harness = Harness()
    harness.room.keepsMessages, harness.room.keptBefore = True, 1
    harness.joinCluster(lastId=b"9-0")
    _, reply = pending(harness, b"XREVRANGE")
    reply.callback([[b"9-0", [b"n", b"x", b"d", b"c: a\n", b"m", b"3", b"p", b"2"]]])
    assert [n.first for _, n in harness.room.numbered] == [3]
