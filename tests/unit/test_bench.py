"""
C{chat-bench} in memory: its payload, parsing and statistics.
"""

from __future__ import annotations

from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chat.tools.bench.connections import Receiver
from chat.tools.bench.framing import (
    Sample,
    lineLength,
    mayHoldNotice,
    noticeLines,
    parseRelayed,
    payload,
)
from chat.tools.bench.stats import ReceiverStats, Window, latencySummary, percentile


class PayloadTests(SynchronousTestCase):
    def test_paddedToTheSize(self) -> None:
        """
        A payload line is its sender, sequence number and send time, padded
        with C{x} to its size, then a newline.
        """
        line = payload(3, 17, 123456789, 40)
        self.assertEqual(line, b"3 17 123456789 " + b"x" * 25 + b"\n")

    def test_parsedBackFromTheRelayedLine(self) -> None:
        """
        The sender, sequence number and send time are read back from the
        line as relayed, after its prefix.
        """
        line = b"client 12: " + payload(3, 17, 123456789, 64)[:-1]
        self.assertEqual(parseRelayed(line), Sample(3, 17, 123456789))

    def test_noticesAndGarbageAreNotSamples(self) -> None:
        """
        Notices, ordinary chat lines, a prefix alone, fields that are not
        numbers and an empty line are no samples.
        """
        for line in [
            b"server: client 3 just arrived",
            b"client 3: hello there",
            b"client 3:",
            b"client 3: 1 2 three x",
            b"",
        ]:
            self.assertIsNone(parseRelayed(line), line)


class StatisticsTests(SynchronousTestCase):
    def test_nearestRankPercentiles(self) -> None:
        """
        Percentiles are by nearest rank: the value at the rank rounded up,
        the only value of a list of one.
        """
        ordered = list(range(1, 101))
        self.assertEqual(percentile(ordered, 0.5), 50)
        self.assertEqual(percentile(ordered, 0.9), 90)
        self.assertEqual(percentile(ordered, 0.999), 100)
        self.assertEqual(percentile([7], 0.5), 7)

    def test_summaryInMicroseconds(self) -> None:
        """
        The summary counts the samples, and gives percentiles and the
        maximum in microseconds from nanoseconds; without samples, no
        percentiles.
        """
        summary = latencySummary([1000, 2000, 3000, 4000])
        self.assertEqual(summary["samples"], 4)
        self.assertEqual(summary["p50"], 2.0)
        self.assertEqual(summary["max"], 4.0)
        self.assertIsNone(latencySummary([])["p99"])

    def test_noticeLinesAndArrivals(self) -> None:
        """
        L{noticeLines} counts the bytes of the complete server notices and
        how many are arrivals; a notice without its newline is not counted.
        """
        block = (
            b"client 1: 0 0 0 xx\nserver: client 7 just arrived\n"
            b"server: client 7 just left\nserver: shutting down\n"
        )
        self.assertEqual(noticeLines(block), (len(block) - 19, 1))
        self.assertEqual(noticeLines(b"server: client 7 just arrived"), (0, 0))

    def test_relayedLinesNeverLookLikeNotices(self) -> None:
        """
        A relayed payload line, however large its numbers, is ruled out as
        holding a notice; a notice, or any piece of one with its C{v}, is
        not.
        """
        line = b"client 1234: " + payload(9, 12345678, 2**62, 64)
        self.assertFalse(mayHoldNotice(line))
        self.assertTrue(mayHoldNotice(b"server: client 3 just left\n"))
        self.assertTrue(mayHoldNotice(b"ver: "))

    def test_lineLength(self) -> None:
        """A line as received is its sender's prefix, the payload and the newline."""
        self.assertEqual(lineLength(7, 64), len(b"client 7: ") + 65)
        self.assertEqual(lineLength(1234, 64), len(b"client 1234: ") + 65)


class FakeWorker:
    """What a L{Receiver} needs of its worker."""

    def __init__(self) -> None:
        self.stats = ReceiverStats()
        self.window = Window(0, 2**63)
        self.connected = 0


class TCPTransport(StringTransport):
    noDelay = False

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.noDelay = enabled


class ReceiverTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.worker = FakeWorker()
        self.receiver = Receiver(self.worker, 5)  # type: ignore[arg-type]
        self.transport = TCPTransport()
        self.receiver.makeConnection(self.transport)

    def test_connectedWithoutNagle(self) -> None:
        """A receiver turns Nagle's algorithm off and counts itself connected."""
        self.assertTrue(self.transport.noDelay)
        self.assertEqual(self.worker.connected, 1)

    def line(self, sender: int, seq: int) -> bytes:
        return b"client %d: " % (sender + 40) + payload(sender, seq, 1, 40)

    def test_countsRelayedLinesNotNoticesHoweverCut(self) -> None:
        """
        However the stream is cut, a receiver counts the bytes of the
        relayed lines and not of the notices, counts the arrival, and finds
        nothing wrong.
        """
        stream = (
            b"server: client 44 just arrived\n"
            + b"".join(self.line(sender, seq) for seq in range(3) for sender in (1, 2))
            + b"server: client 44 just left\n"
        )
        for size in (1, 5, 7, 13, 64, len(stream)):
            self.setUp()
            for start in range(0, len(stream), size):
                self.receiver.dataReceived(stream[start : start + size])
            stats = self.worker.stats
            relayed = 6 * lineLength(41, 40)
            self.assertEqual(
                (self.receiver.relayedBytes, stats.relayedBytes), (relayed, relayed)
            )
            self.assertEqual(stats.arrivals, 1, size)
            problems = stats.orderViolations + stats.selfEcho + stats.malformed
            self.assertEqual(problems, 0, size)

    def test_sampledOrderViolationAndSelfEcho(self) -> None:
        """
        The last line of each chunk is sampled: a sequence number not above
        the last of its sender is an order violation, and a line of the
        receiver's own sender an echo.
        """
        self.receiver.dataReceived(self.line(1, 5))
        self.receiver.dataReceived(self.line(1, 4))
        self.receiver.dataReceived(self.line(5, 0))
        stats = self.worker.stats
        self.assertEqual((stats.orderViolations, stats.selfEcho), (1, 1))
        self.assertEqual(len(stats.latenciesNs), 3)  # the last line of each chunk

    def test_closedByTheServer(self) -> None:
        """
        A connection lost without the receiver closing it counts as closed
        by the server.
        """
        self.receiver.connectionLost()
        self.assertEqual(self.worker.stats.closedByServer, 1)
