"""
History on join (C{--history N}), in memory.
"""

from __future__ import annotations

from chat.core import wire
from chat.people.history import History
from tests.support.fakes import FakeRoom


def test_newcomerReceivesTheLastLines() -> None:
    """The last N relayed lines, as delivered, between the two notices."""
    fake = FakeRoom(history=2)
    a, ta = fake.connect()
    assert fake.received(ta) == b"server: last 0 lines\nserver: end of history\n"
    a.dataReceived(b"one\ntwo\nthree\n")
    b, tb = fake.connect()
    assert fake.received(tb) == (
        b"server: last 2 lines\nclient 0: two\nclient 0: three\n"
        b"server: end of history\n"
    )
    a.dataReceived(b"live\n")
    assert fake.received(tb) == b"client 0: live\n"


def test_notOnlyLinesOfTheLiving() -> None:
    """Lines of clients who left stay; notices are not history."""
    fake = FakeRoom(history=5)
    a, ta = fake.connect()
    a.dataReceived(b"\x00\xff bytes\n\npartial")
    fake.disconnect(a)
    b, tb = fake.connect()
    assert fake.received(tb) == (
        b"server: last 3 lines\nclient 0: \x00\xff bytes\nclient 0: \n"
        b"client 0: partial\nserver: end of history\n"
    )


def test_sameRoundNewcomer() -> None:
    """A line sent in the round a newcomer joins reaches it exactly once."""
    fake = FakeRoom(history=5)
    a, ta = fake.connect()
    fake.received(ta)
    a.dataReceived(b"before\n")
    b, tb = fake.connect()
    a.dataReceived(b"after\n")
    assert fake.received(tb) == (
        b"server: last 1 lines\nclient 0: before\nserver: end of history\n"
        b"client 0: after\n"
    )


def test_withCommands() -> None:
    """Nicks and actions are kept as they were delivered; private ones not."""
    fake = FakeRoom(history=10, commands=True)
    a, ta = fake.connect()
    a.dataReceived(b"/nick al\nhi\n/me waves\n/msg al secret\n/who\n")
    b, tb = fake.connect()
    assert fake.received(tb) == (
        b"server: last 2 lines\nal: hi\n* al waves\nserver: end of history\n"
    )


def test_historyOffSendsNothing() -> None:
    """
    Without C{--history} a newcomer is sent nothing of what was said before
    it came.
    """
    fake = FakeRoom()
    a, ta = fake.connect()
    a.dataReceived(b"x\n")
    b, tb = fake.connect()
    assert fake.received(tb) == b""


def test_boundedByLines() -> None:
    """
    The history keeps the last N lines only, and the notices between them
    are not counted among its lines.
    """
    history = History(3)
    for n in range(100):
        history.record(b"client 0: %d\nserver: client 1 just left\n" % n)
    assert len(history) == 3
    assert (
        b"".join(history.replay())
        == (wire.historyStart(3) + b"client 0: 97\nclient 0: 98\nclient 0: 99\n")
        + wire.END_OF_HISTORY
    )


def test_recordOlder() -> None:
    """Reading back older entries fills the history up to its size, no more."""
    history = History(3)
    history.record(b"c: new\n")
    assert history.recordOlder(b"c: older\n") is True
    assert history.recordOlder(b"c: a\nserver: x\nc: b\nc: c\n") is False
    assert b"".join(history.replay()) == (
        wire.historyStart(3) + b"c: c\nc: older\nc: new\n" + wire.END_OF_HISTORY
    )


def test_boundedByBytes() -> None:
    """Never more than maxBytes, counting each line's newline."""
    history = History(10, maxBytes=15)
    history.record(b"c: 1\nc: 2\nc: 3\n")
    assert b"".join(history.replay()) == (
        wire.historyStart(3) + b"c: 1\nc: 2\nc: 3\n" + wire.END_OF_HISTORY
    )
    history.record(b"c: 4\n")
    assert len(history) == 3
    history.record(b"c: " + b"x" * 20 + b"\n")
    assert len(history) == 0  # longer than the whole allowance
    assert history.recordOlder(b"c: 5\nc: 6\n") is True
    assert history.recordOlder(b"c: 7\nc: 8\n") is False
    assert b"".join(history.replay()) == (
        wire.historyStart(3) + b"c: 8\nc: 5\nc: 6\n" + wire.END_OF_HISTORY
    )


def test_historyWithinTheSendQ() -> None:
    """A newcomer's history never gets it cut off by the SendQ limit."""
    from chat.core.limits import Limits

    fake = FakeRoom(history=100, limits=Limits(sendqHard=4096, sendqSoft=2048))
    a, ta = fake.connect()
    fake.received(ta)
    a.dataReceived((b"y" * 100 + b"\n") * 100)
    b, tb = fake.connect()
    received = fake.received(tb)
    assert received.startswith(wire.historyStart(9))
    assert not tb.aborted
