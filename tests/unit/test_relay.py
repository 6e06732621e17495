"""
The wire protocol on in-memory transports: the protocol
and the room together, without a reactor.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from chat.tcp.protocol import ChatProtocol
from tests.support.fakes import FakeRoom


class IdsAndNoticesTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.fake = FakeRoom()

    def test_idsInAcceptOrderNeverReused(self) -> None:
        """
        Clients are numbered from 0 in the order they connect, and the id of
        one that left is not given again.
        """
        first, _ = self.fake.connect()
        second, _ = self.fake.connect()
        self.fake.disconnect(first)
        third, _ = self.fake.connect()
        self.assertEqual([first.clientId, second.clientId, third.clientId], [0, 1, 2])

    def test_arrivalToOthersNotToNewcomer(self) -> None:
        """
        Each arrival is announced to the clients already there, not to the
        newcomer itself.
        """
        _, a = self.fake.connect()
        _, b = self.fake.connect()
        _, c = self.fake.connect()
        self.assertEqual(
            self.fake.received(a),
            b"server: client 1 just arrived\nserver: client 2 just arrived\n",
        )
        self.assertEqual(self.fake.received(b), b"server: client 2 just arrived\n")
        self.assertEqual(self.fake.received(c), b"")

    def test_leaveNoticeToOthers(self) -> None:
        """
        A client whose connection is lost leaves the room, and the others
        are told it left.
        """
        _, a = self.fake.connect()
        leaving, _ = self.fake.connect()
        self.fake.received(a)
        self.fake.disconnect(leaving, ConnectionLost())
        self.assertEqual(self.fake.received(a), b"server: client 1 just left\n")
        self.assertEqual(list(self.fake.room.clients), [0])


class RelayTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.fake = FakeRoom(maxLine=8)
        self.sender, self.senderOut = self.fake.connect()
        _, self.a = self.fake.connect()
        _, self.b = self.fake.connect()
        for transport in (self.senderOut, self.a, self.b):
            self.fake.received(transport)

    def relayed(self, *chunks: bytes) -> bytes:
        for chunk in chunks:
            self.sender.dataReceived(chunk)
        toA, toB = self.fake.received(self.a), self.fake.received(self.b)
        self.assertEqual(toA, toB)
        self.assertEqual(
            self.fake.received(self.senderOut), b"", "echoed to the sender"
        )
        return toA

    def test_lineToEveryOtherClient(self) -> None:
        """
        A line reaches every other client, after its sender's prefix, and
        not the sender.
        """
        self.assertEqual(self.relayed(b"hello\n"), b"client 0: hello\n")

    def test_emptyLineDelivered(self) -> None:
        """An empty line is relayed too, as the prefix alone."""
        self.assertEqual(self.relayed(b"\n\n"), b"client 0: \nclient 0: \n")

    def test_oneCarriageReturnBeforeNewlineRemoved(self) -> None:
        """
        One carriage return before a newline is taken off with it; another
        before that one, and one elsewhere in a line, are relayed.
        """
        self.assertEqual(
            self.relayed(b"a\r\nb\r\r\nc\rd\n\r\n"),
            b"client 0: a\nclient 0: b\r\nclient 0: c\rd\nclient 0: \n",
        )

    def test_carriageReturnSplitFromItsNewline(self) -> None:
        """
        A CRLF cut between two chunks still ends its line without the
        carriage return.
        """
        self.assertEqual(self.relayed(b"tel\r", b"\n"), b"client 0: tel\n")

    def test_bytesAreOpaque(self) -> None:
        """NUL and bytes that are not UTF-8 are relayed unchanged."""
        self.assertEqual(self.relayed(b"\x00\xff\xfe\n"), b"client 0: \x00\xff\xfe\n")

    def test_lineAcrossChunks(self) -> None:
        """
        A line that arrives in pieces is relayed once complete, and what
        follows its newline starts the next one.
        """
        self.assertEqual(self.relayed(b"he", b"l", b"lo\nwo"), b"client 0: hello\n")
        self.assertEqual(self.relayed(b"rld\n"), b"client 0: world\n")

    def test_longLineCutIntoPieces(self) -> None:
        """
        A line longer than the maximum is relayed in pieces of the maximum,
        each a line of its own.
        """
        self.assertEqual(
            self.relayed(b"0123456789abcdefXY\n"),
            b"client 0: 01234567\nclient 0: 89abcdef\nclient 0: XY\n",
        )

    def test_longPartialLineNeverBufferedPastLimit(self) -> None:
        """
        A partial line that reaches the maximum is relayed as a piece at
        once; only the rest stays buffered.
        """
        toA = self.relayed(b"0123456789")
        self.assertEqual(toA, b"client 0: 01234567\n")
        self.assertEqual(self.sender.clearLineBuffer(), b"89")

    def test_lineOfExactlyTheLimitWithCRLF(self) -> None:
        """
        A line of exactly the maximum, its CR and LF in chunks of their own
        after it, is one line: no empty piece follows it.
        """
        self.assertEqual(
            self.relayed(b"01234567", b"\r", b"\n"), b"client 0: 01234567\n"
        )

    def test_partialLineDeliveredBeforeLeaveNotice(self) -> None:
        """
        What a leaving client sent after its last newline is relayed as a
        line, before the notice that it left.
        """
        self.sender.dataReceived(b"one\ntwo")
        self.fake.disconnect(self.sender)
        self.assertEqual(
            self.fake.received(self.a),
            b"client 0: one\nclient 0: two\nserver: client 0 just left\n",
        )

    def test_oneFramePerChunkSharedByAllRecipients(self) -> None:
        """
        The lines of one chunk reach each recipient in one write, the same
        bytes for all of them.
        """
        self.a.writes.clear()
        self.b.writes.clear()
        self.sender.dataReceived(b"x\ny\nz\n")
        self.fake.clock.advance(0)
        self.assertEqual(len(self.a.writes), 1)
        self.assertIs(self.a.writes[0], self.b.writes[0])

    def test_pausedClientRelaysAfterResume(self) -> None:
        """
        Lines received while a client is paused are relayed only once it is
        resumed.
        """
        self.sender.pauseProducing()
        self.sender.dataReceived(b"held\n")
        self.assertEqual(self.fake.received(self.a), b"")
        self.sender.resumeProducing()
        self.assertEqual(self.fake.received(self.a), b"client 0: held\n")

    def test_linesReceivedRelaysThemAsOneChunk(self) -> None:
        """Lines handed to the client's protocol go to the room as received."""
        self.sender.linesReceived([b"direct"])
        self.assertEqual(self.fake.received(self.a), b"client 0: direct\n")


class BatchTests(SynchronousTestCase):
    """
    What is posted during one reactor iteration goes out at its end, in one
    write per client.
    """

    def setUp(self) -> None:
        self.fake = FakeRoom()
        self.clients = [self.fake.connect() for _ in range(3)]
        for _, transport in self.clients:
            self.fake.received(transport)
            transport.writes.clear()

    def test_nothingSentUntilTheIterationEnds(self) -> None:
        """A line is written to the others only when the reactor iteration ends."""
        (sender, _), (_, reader), _ = self.clients
        sender.dataReceived(b"soon\n")
        self.assertEqual(reader.writes, [])
        self.fake.clock.advance(0)
        self.assertEqual(reader.writes, [b"client 0: soon\n"])

    def test_oneWritePerClientForSeveralSenders(self) -> None:
        """
        Lines of several senders in one iteration reach each client in one
        write, in the order they were sent, its own left out.
        """
        (first, firstOut), (second, secondOut), (_, reader) = self.clients
        first.dataReceived(b"a\n")
        second.dataReceived(b"b\n")
        first.dataReceived(b"c\n")
        self.fake.clock.advance(0)
        self.assertEqual(reader.writes, [b"client 0: a\nclient 1: b\nclient 0: c\n"])
        self.assertEqual(firstOut.writes, [b"client 1: b\n"])
        self.assertEqual(secondOut.writes, [b"client 0: a\nclient 0: c\n"])

    def test_newcomerGetsOnlyWhatCameAfterIt(self) -> None:
        """
        A client arriving during an iteration gets only what was said after
        it came; the others get its arrival in its place among the lines.
        """
        (sender, _), (_, reader), _ = self.clients
        sender.dataReceived(b"before\n")
        newcomer, newcomerOut = self.fake.connect()
        sender.dataReceived(b"after\n")
        newcomer.dataReceived(b"mine\n")
        self.fake.clock.advance(0)
        self.assertEqual(newcomerOut.writes, [b"client 0: after\n"])
        self.assertEqual(
            reader.writes,
            [
                b"client 0: before\nserver: client 3 just arrived\n"
                b"client 0: after\nclient 3: mine\n"
            ],
        )

    def test_leaverGetsNothingMore(self) -> None:
        """
        A client that leaves during an iteration is sent nothing of it; the
        others get the lines, then the notice that it left.
        """
        (leaver, leaverOut), (sender, _), (_, reader) = self.clients
        sender.dataReceived(b"x\n")
        self.fake.disconnect(leaver)
        self.fake.clock.advance(0)
        self.assertEqual(leaverOut.writes, [])
        self.assertEqual(reader.writes, [b"client 1: x\nserver: client 0 just left\n"])


class LogEventTests(SynchronousTestCase):
    def test_stateAndRelayEvents(self) -> None:
        """
        Arrivals and departures are logged as STATE events, and a relay as
        one RX event with the lines relayed and the number of recipients.
        """
        fake = FakeRoom()
        sender, _ = fake.connect()
        fake.connect()
        sender.dataReceived(b"a\nb\n")
        fake.disconnect(sender)
        categories = [event["category"] for event in fake.events]
        self.assertEqual(categories, ["STATE", "STATE", "RX", "STATE"])
        relay = fake.events[2]
        self.assertEqual(relay["relayedLines"], [b"a", b"b"])
        self.assertEqual(relay["recipients"], 1)

    def test_noRelayEventsWhenNotLogged(self) -> None:
        """With relays not logged, relaying a line logs no RX event."""
        fake = FakeRoom()
        fake.room.logRelays = False
        sender, _ = fake.connect()
        sender.dataReceived(b"a\n")
        self.assertNotIn("RX", [event["category"] for event in fake.events])


class ShutDownTests(SynchronousTestCase):
    def test_everyClientToldAndClosed(self) -> None:
        """
        Shutting down tells every client so and closes it; no leave notices
        follow, and the shutdown is done once they are all gone.
        """
        fake = FakeRoom()
        clients = [fake.connect() for _ in range(3)]
        for _, transport in clients:
            fake.received(transport)
        done = fake.room.shutDown()
        for client, transport in clients:
            self.assertEqual(fake.received(transport), b"server: shutting down\n")
            self.assertTrue(transport.disconnecting)
            fake.disconnect(client)
        for _, transport in clients:
            self.assertEqual(fake.received(transport), b"", "leave notices at shutdown")
        self.successResultOf(done)

    def test_clientsNotReadingAreCutOffAfterGrace(self) -> None:
        """
        A client whose connection has not closed when the grace period ends
        is cut off then, not before, and the shutdown is done.
        """
        fake = FakeRoom()
        _, lazy = fake.connect()
        clock = fake.clock
        done = fake.room.shutDown(grace=5)
        clock.advance(4.9)
        self.assertNoResult(done)
        self.assertFalse(lazy.aborted)
        clock.advance(0.2)
        self.assertTrue(lazy.aborted)
        self.successResultOf(done)

    def test_emptyRoomDoneAtOnce(self) -> None:
        """Shutting down an empty room is done at once."""
        self.successResultOf(FakeRoom().room.shutDown())


def expected(stream: bytes, limit: int) -> bytes:
    """
    What one client's stream turns into, closed: a line for each line, cut
    into pieces of at most C{limit} bytes, the partial one ended.
    """
    out = []
    for line in stream.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        pieces = [line[i : i + limit] for i in range(0, len(line), limit)]
        out.extend(pieces or [b""])
    if stream.endswith(b"\n") or not stream:
        del out[-1]
    return b"".join(b"client 0: " + line + b"\n" for line in out)


class ChunkingInvarianceTests(SynchronousTestCase):
    @settings(max_examples=300, deadline=None)
    @given(
        stream=st.binary(max_size=60).map(
            lambda data: bytes(b"ab\r\n\x00"[byte % 5] for byte in data)
        ),
        cuts=st.lists(st.integers(0, 60), max_size=12),
        limit=st.integers(1, 9),
    )
    def test_sameOutputHoweverTheStreamIsCut(
        self, stream: bytes, cuts: list[int], limit: int
    ) -> None:
        """
        However a stream is cut into chunks, and whatever the maximum line,
        the others receive the same lines; no more than the maximum and one
        byte is ever buffered.
        """
        fake = FakeRoom(maxLine=limit)
        sender, _ = fake.connect()
        _, reader = fake.connect()
        bounds = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
        for start, end in zip(bounds, bounds[1:], strict=False):
            sender.dataReceived(stream[start:end])
            self.assertLessEqual(sender.buffered, limit + 1)
        fake.disconnect(sender)
        self.assertEqual(
            fake.received(reader),
            expected(stream, limit) + b"server: client 0 just left\n",
        )


class ProtocolAloneTests(SynchronousTestCase):
    def test_frameUsesTheClientsPrefix(self) -> None:
        """
        A client's frame puts its own prefix before each of its lines, an
        empty one too.
        """
        client = ChatProtocol(FakeRoom().room, 10, Clock())
        client.number(42)
        self.assertEqual(client.frame([b"a", b""]), b"client 42: a\nclient 42: \n")
