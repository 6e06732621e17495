"""
Messages numbered by the peers (a cluster's stream), in memory: made of
what the stream delivers with its ids, sent to the clients that read
messages but those they come from; what the room posts itself makes none,
but what only this room is sent; what one client is told has the id of
the newest message before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from chat.cluster.appender import addOrigin, decodeOrigins, encodeOrigins
from chat.cluster.reader import numberingOf
from chat.core.batch import Round
from chat.core.interfaces import IMessageQueue
from chat.core.messages import LINE, NOTICE, Message, Messages, Numbering
from chat.people.messages import MessageRecord


@implementer(IMessageQueue)
class Queue:
    """A send queue that keeps what it is written: bytes or messages."""

    size = drains = 0
    since: int | None = None

    def __init__(self) -> None:
        self.written: list[Any] = []

    def watch(self, *args: object) -> None:
        pass

    def write(self, data: bytes | memoryview) -> None:
        self.written.append(bytes(data))

    def writeMessages(self, messages: Sequence[Message]) -> None:
        self.written.append([(m.id, m.text) for m in messages])

    def writeCaughtUp(self, since: int, complete: bool) -> None:
        self.written.append(("caughtUp", since, complete))

    def finish(self) -> None:
        pass


class Client:
    """A client of the round: an id and a queue."""

    def __init__(self, clientId: int, reads: bool) -> None:
        self.clientId = clientId
        self.label = b"client %d" % clientId
        self.sendq = Queue()
        self.reads = reads


class NumberedTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(5)
        self.record = MessageRecord()
        self.made = Messages(self.clock, self.record, firstId=1, numbered=True)
        self.clients = {n: Client(n, reads=n < 2) for n in range(3)}
        self.round = Round(self.clock, self.clients)  # type: ignore[arg-type]
        self.round.messages = self.made
        for client in self.clients.values():
            if client.reads:
                self.assertTrue(self.round.reads(client))  # type: ignore[arg-type]

    def test_idsFromTheNumbering(self) -> None:
        """
        Lines numbered by the peers are messages with their ids, one more
        a line, their time, and their senders by the origins; they are
        kept, and the first id before them starts what is ours.
        """
        numbering = Numbering(100, 90, 7000, [(0, 1), (None, 1)])
        made = self.made.numberedBy(b"client 0: a\nserver: b\nbob: c\n", numbering)
        self.assertEqual(
            [(m.id, m.time, m.kind, m.senderId, m.text) for m in made],
            [
                (100, 7000, LINE, 0, b"a"),
                (101, 7000, NOTICE, None, b"b"),
                (102, 7000, LINE, None, b"c"),
            ],
        )
        self.assertEqual(self.record.after(90), (True, made))
        self.assertTrue(self.made.ours(90))
        self.assertFalse(self.made.ours(89))
        self.assertTrue(self.made.ours(102))
        self.assertFalse(self.made.ours(103))

    def test_postedMakesNoneButLocal(self) -> None:
        """
        What the room posts (it comes back numbered) makes no message, but
        what only this room is sent: that one has the id of the newest
        message, and is not kept; nor are messages told one client.
        """
        self.made.numberedBy(b"client 0: a\n", Numbering(50, 0, 1))
        self.assertEqual(self.made.posted(b"client 2: b\n", None), [])
        local = self.made.posted(b"server: shutting down\n", None, local=True)
        told = self.made.told(b"server: you are client 2\n")
        self.assertEqual([m.id for m in local + told], [50, 50])
        self.assertEqual(len(self.record), 1)

    def test_readersGetTheNumberedOnly(self) -> None:
        """
        Of a round, the clients that read messages get the numbered
        messages but those they said; the others get the bytes posted, and
        never the numbered messages.
        """
        self.round.post(b"client 2: x\n", self.clients[2])  # type: ignore[arg-type]
        numbering = Numbering(10, 9, 1, [(2, 1), (0, 1)])
        made = self.made.numberedBy(b"client 2: x\nclient 0: y\n", numbering)
        self.round.postMessages(made)
        self.clock.advance(0)
        self.assertEqual(self.clients[0].sendq.written, [[(10, b"x")]])
        self.assertEqual(self.clients[1].sendq.written, [[(10, b"x"), (11, b"y")]])
        self.assertEqual(self.clients[2].sendq.written, [])

    def test_bytesWithoutMessages(self) -> None:
        """
        A round of bytes alone (in a cluster, what the room posts before its
        numbered messages come) sends readers nothing.
        """
        self.round.post(b"client 2: x\n", None)
        self.clock.advance(0)
        self.assertEqual(self.clients[0].sendq.written, [])
        self.assertEqual(self.clients[2].sendq.written, [b"client 2: x\n"])


class StreamFieldsTests(SynchronousTestCase):
    def test_origins(self) -> None:
        """
        Who said an entry's lines is counted in runs and written as a field
        the reader reads back; the server's lines have no id.
        """
        origins: list[tuple[int | None, int]] = []
        for origin, lines in [(3, 1), (3, 2), (None, 1), (5, 0), (5, 1)]:
            addOrigin(origins, origin, lines)
        self.assertEqual(origins, [(3, 3), (None, 1), (5, 1)])
        self.assertEqual(encodeOrigins(origins), b"3:3,:1,5:1")
        self.assertEqual(decodeOrigins(b"3:3,:1,5:1"), origins)
        self.assertEqual(decodeOrigins(b""), [])

    def test_numberingOfAnEntry(self) -> None:
        """
        An entry's numbering: its first id and the one before, its time
        from the entry's id, its origins (an arrival's is its client);
        none for an entry without ids.
        """
        values = {b"m": b"2001", b"p": b"1990", b"o": b"4:2"}
        self.assertEqual(
            numberingOf(b"17-3", values), Numbering(2001, 1990, 17, [(4, 2)])
        )
        arrival = {b"m": b"5", b"p": b"4", b"i": b"8"}
        self.assertEqual(numberingOf(b"1-0", arrival), Numbering(5, 4, 1, [(8, 1)]))
        self.assertEqual(numberingOf(b"1-0", {b"d": b"x\n"}), None)


class ReadBackTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.record = MessageRecord(size=3, seconds=10)
        self.made = Messages(Clock(), self.record, firstId=1, numbered=True)

    def test_olderMessagesKept(self) -> None:
        """
        Messages read back, newest first, are kept before those kept, as
        far as the record's count and age take them; what is ours starts
        after the last entry it took whole.
        """
        self.assertTrue(
            self.made.numberedBefore(b"c: c\nc: d\n", Numbering(30, 20, 50_000))
        )
        self.assertEqual(self.made.lastId, 31)
        self.assertTrue(self.made.numberedBefore(b"c: b\n", Numbering(20, 10, 45_000)))
        self.assertEqual(self.made.firstId, 11)
        # Three are kept, and the next is older than ten seconds: not kept.
        self.assertFalse(self.made.numberedBefore(b"c: a\n", Numbering(10, 5, 30_000)))
        self.assertEqual(self.made.firstId, 11)
        complete, kept = self.record.after(10)
        self.assertEqual((complete, [m.text for m in kept]), (True, [b"b", b"c", b"d"]))
        self.assertEqual(self.record.after(5)[0], False)

    def test_liveAfterReadBack(self) -> None:
        """The messages numbered live follow those read back, in the record."""
        self.made.numberedBefore(b"c: a\n", Numbering(10, 5, 1000))
        self.made.numberedBy(b"c: b\n", Numbering(20, 10, 2000))
        self.assertEqual((self.made.firstId, self.made.lastId), (6, 20))
        self.assertEqual([m.id for m in self.record.after(5)[1]], [10, 20])
