"""
Messages in chat mode, in memory: what the room delivers made messages with
ids in the order it delivers them and the time of its clock, the record of
those delivered to everyone and its bounds, and none of it without chat
options.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from chat.app.options import Options
from chat.app.tap import makeService
from chat.core.interfaces import IMessageRecord
from chat.core.limits import Limits
from chat.core.messages import (
    ACTION,
    LINE,
    NOTICE,
    OVERHEAD,
    PRIVATE,
    RUN_IDS,
    Message,
    Messages,
    parse,
    runStart,
)
from chat.people.messages import KEPT, KEPT_BYTES, MessageRecord, recordFor
from tests.support.fakes import FakeRoom


def said(record: IMessageRecord) -> list[tuple[int, str, int | None, bytes, bytes]]:
    """What C{record} keeps: each message's id, kind, sender and text."""
    complete, kept = record.after(0)
    assert complete
    return [(m.id, m.kind, m.senderId, m.senderName, m.text) for m in kept]


def message(id: int, time: int = 0, text: bytes = b"x") -> Message:
    return Message(id, time, LINE, 1, b"client 1", text)


class RoomMessagesTests(SynchronousTestCase):
    """The messages a room in chat mode makes of what it delivers."""

    def setUp(self) -> None:
        self.fake = FakeRoom(commands=True)
        self.alice, _ = self.fake.connect()
        self.bob, _ = self.fake.connect()
        made = self.fake.room.messages
        assert made is not None
        self.record = made.record
        assert isinstance(self.record, MessageRecord)

    def test_idsInDeliveryOrder(self) -> None:
        """
        Lines, actions and notices to everyone are numbered from 1 in the
        order the room delivers them, and kept with their sender (its id
        and the name it had then) and their text without decoration.
        """
        self.alice.dataReceived(b"hello\n/nick alice\nhi\n")
        self.bob.dataReceived(b"/me waves\n")
        self.fake.clock.advance(0)
        self.assertEqual(
            said(self.record),
            [
                (1, NOTICE, None, b"server", b"client 0 just arrived"),
                (2, NOTICE, None, b"server", b"client 1 just arrived"),
                (3, LINE, 0, b"client 0", b"hello"),
                (4, NOTICE, None, b"server", b"client 0 is now alice"),
                (5, LINE, 0, b"alice", b"hi"),
                (6, ACTION, 1, b"client 1", b"waves"),
            ],
        )

    def test_timeFromTheClock(self) -> None:
        """A message's time is the room's clock's, in milliseconds."""
        self.fake.clock.advance(1733330000.1234)
        self.alice.dataReceived(b"now\n")
        _, kept = self.record.after(2)
        self.assertEqual([m.time for m in kept], [1733330000123])

    def test_privateAndAnswersNotKept(self) -> None:
        """
        Private messages and a client's own answers are not kept for
        catching up: only what everyone was sent.
        """
        self.bob.dataReceived(b"/nick bob\n")
        self.alice.dataReceived(b"/msg bob secret\n/who\n/help\nopen\n")
        self.fake.clock.advance(0)
        self.assertEqual(
            [text for *_, text in said(self.record)],
            [
                b"client 0 just arrived",
                b"client 1 just arrived",
                b"client 1 is now bob",
                b"open",
            ],
        )

    def test_nothingWithoutChatOptions(self) -> None:
        """
        Without chat options the room makes no message and keeps no record:
        its round holds the bytes alone.
        """
        fake = FakeRoom()
        client, _ = fake.connect()
        client.dataReceived(b"hello\n")
        self.assertIsNone(fake.room.messages)
        self.assertEqual(fake.room.stages, [])
        self.assertEqual([made for _, _, made in fake.room._round._posted], [(), ()])


class IdsTests(SynchronousTestCase):
    def test_idsOfARun(self) -> None:
        """
        A run's ids begin at its first id and tell its own ids (and the one
        just before the first) from those of any other run.
        """
        made = Messages(Clock(), MessageRecord(), firstId=1000)
        self.assertTrue(made.ours(999))
        first = made.told(b"server: hi\n")[0]
        self.assertEqual(first.id, 1000)
        self.assertTrue(made.ours(first.id))
        self.assertFalse(made.ours(first.id + 1))
        self.assertFalse(made.ours(5))

    def test_runsBeginApart(self) -> None:
        """
        A server's runs (and a cluster's nodes) begin their ids at random
        places below 2**52, so each tells the others' ids from its own, and
        every id stays exact as a JavaScript number.
        """
        starts = {runStart() for _ in range(100)}
        self.assertEqual(len(starts), 100)
        self.assertTrue(all(0 < start <= RUN_IDS for start in starts))
        self.assertLessEqual(RUN_IDS * 2, 2**53)

    def test_serverIdsBeginAtARunStart(self) -> None:
        """
        The wiring numbers a server's messages from a run start of its own:
        two servers, or one started again, do not share ids.
        """
        options = Options()
        options.parseOptions(["--commands", "--web", "tcp:0"])
        rooms = [makeService(options, reactor=MemoryReactorClock()).room for _ in "ab"]
        firsts = [room.messages.firstId for room in rooms if room.messages is not None]
        self.assertEqual(len(firsts), 2)
        self.assertNotEqual(firsts[0], firsts[1])


class ParseTests(SynchronousTestCase):
    """The kind, sender and text of a line as the room delivers it."""

    def test_kinds(self) -> None:
        """Notices, lines, actions and private messages, by name or number."""
        self.assertEqual(parse(b"server: hi"), (NOTICE, b"server", b"hi"))
        self.assertEqual(parse(b"client 3: a: b"), (LINE, b"client 3", b"a: b"))
        self.assertEqual(parse(b"bob: x"), (LINE, b"bob", b"x"))
        self.assertEqual(parse(b"* client 3 waves"), (ACTION, b"client 3", b"waves"))
        self.assertEqual(parse(b"* bob"), (ACTION, b"bob", b""))
        self.assertEqual(parse(b"* client x y", b"client"), (ACTION, b"client", b"x y"))
        self.assertEqual(parse(b"bob (private): s"), (PRIVATE, b"bob", b"s"))
        self.assertEqual(parse(b"odd"), (NOTICE, b"server", b"odd"))

    def test_bytesKept(self) -> None:
        """Bytes that are not UTF-8 are kept as they came."""
        self.assertEqual(parse(b"bob: \xff\xfe"), (LINE, b"bob", b"\xff\xfe"))


class RecordTests(SynchronousTestCase):
    """The record's bounds: count, age and bytes."""

    def test_countOfOldMessages(self) -> None:
        """
        Of messages older than the age kept, only the last C{size} are
        kept; the record then covers only the ids after the last forgotten.
        """
        record = MessageRecord(size=3, seconds=1)
        record.add([message(i, time=0) for i in range(1, 6)])
        record.add([message(6, time=5000)])
        self.assertEqual([m.id for m in record.after(0)[1]], [4, 5, 6])
        self.assertEqual(record.after(3), (True, record.after(0)[1]))
        self.assertFalse(record.after(2)[0])

    def test_recentKeptBeyondTheCount(self) -> None:
        """Messages younger than the age kept are all kept, whatever their number."""
        record = MessageRecord(size=3, seconds=10)
        record.add([message(i, time=i * 1000) for i in range(1, 11)])
        self.assertEqual(len(record), 10)
        record.add([message(11, time=21000)])
        self.assertEqual([m.id for m in record.after(0)[1]], [9, 10, 11])

    def test_bytes(self) -> None:
        """However recent, no more than the bytes allowed are kept."""
        size = message(1, text=b"x" * 100).size
        self.assertEqual(size, 100 + len(b"client 1") + OVERHEAD)
        record = MessageRecord(size=1, seconds=3600, maxBytes=10 * size)
        record.add([message(i, text=b"x" * 100) for i in range(1, 26)])
        self.assertEqual(len(record), 10)
        self.assertEqual(record.bytes, 10 * size)

    def test_bounds(self) -> None:
        """
        The record keeps at least 1 000 messages, 10 minutes' worth, and no
        more than 16 MiB (half the soft SendQ limit, if that is less); with
        a longer history, as many as it.
        """
        self.assertEqual((KEPT, KEPT_BYTES), (1000, 16 * 1024 * 1024))
        record = recordFor(0, Limits(sendqHard=0))
        record.add([message(i, time=0) for i in range(1, 1001)])
        record.add([message(1001, time=599_999)])
        self.assertEqual(len(record), 1001)
        record.add([message(1002, time=600_001)])
        self.assertEqual(len(record), 1000)
        self.assertEqual(recordFor(5000, Limits())._size, 5000)
        self.assertEqual(recordFor(0, Limits(sendqSoft=1000))._maxBytes, 500)

    def test_history(self) -> None:
        """A history is the last lines and actions kept, not the notices."""
        record = MessageRecord()
        record.add([message(1), Message(2, 0, NOTICE, None, b"server", b"n")])
        record.add([message(3), Message(4, 0, ACTION, 1, b"bob", b"waves")])
        self.assertEqual([m.id for m in record.last(2)], [3, 4])
        self.assertEqual([m.id for m in record.last(5)], [1, 3, 4])
