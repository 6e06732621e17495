"""
C{chat-tester} in memory: its options, its recorder and the transcript it
expects.
"""

from __future__ import annotations

from twisted.internet.testing import StringTransport
from twisted.logger import Logger, LogPublisher
from twisted.trial.unittest import SynchronousTestCase

from chat.core.values import BadValueError
from chat.tools.tester import (
    Options,
    Recorder,
    expectedTranscript,
    firstArrivalId,
    lineOf,
    transcriptDiff,
)


class TranscriptTests(SynchronousTestCase):
    def test_expectedForThreeClientsFromId5(self) -> None:
        """
        Three connections numbered from 5: the two observed arrive, say
        hello and leave, in order.
        """
        self.assertEqual(
            expectedTranscript(5, 3),
            [
                b"server: client 5 just arrived\n",
                b"server: client 6 just arrived\n",
                b"client 5: hello from tester connection 1\n",
                b"client 6: hello from tester connection 2\n",
                b"server: client 5 just left\n",
                b"server: client 6 just left\n",
            ],
        )

    def test_firstArrivalId(self) -> None:
        """
        The id of the first arrival is read from a server's arrival notice
        only, not from a client's line that looks like one.
        """
        self.assertEqual(firstArrivalId(b"server: client 12 just arrived\n"), 12)
        self.assertEqual(firstArrivalId(b"client 3: server: client 9 just\n"), None)
        self.assertEqual(firstArrivalId(b""), None)

    def test_noDiffWhenEqual(self) -> None:
        """A transcript received as expected has no difference."""
        expected = expectedTranscript(0, 4)
        self.assertEqual(transcriptDiff(expected, b"".join(expected)), [])

    def test_diffShowsAnEchoAndAMissingNewline(self) -> None:
        """
        The difference shows a line received that was not expected (a
        client's own line sent back), a line that is missing, and a last
        line without its newline.
        """
        expected = expectedTranscript(1, 2)
        received = (
            b"server: client 1 just arrived\nclient 0: "
            + lineOf(0)
            + b"\nclient 1: hello from tester connection 1\nserver: client 1"
        )
        diff = transcriptDiff(expected, received)
        self.assertIn("+client 0: hello from tester connection 0", diff)
        self.assertIn("-server: client 1 just left", diff)
        self.assertIn("+server: client 1  (no newline)", diff)


class RecorderTests(SynchronousTestCase):
    def test_waitsForLinesAcrossChunks(self) -> None:
        """
        Waiting for lines ends only when they are whole, whatever chunks
        they came in, and at once for lines already received.
        """
        recorder = Recorder(0, Logger(observer=LogPublisher()))
        recorder.makeConnection(StringTransport())
        waiter = recorder.linesReceived(2)
        recorder.dataReceived(b"one\ntw")
        self.assertNoResult(waiter)
        recorder.dataReceived(b"o\n")
        self.successResultOf(waiter)
        self.successResultOf(recorder.linesReceived(1))


class OptionsTests(SynchronousTestCase):
    def test_values(self) -> None:
        """
        The port, the count of clients (C{-n}) and the timeout, in seconds
        as a fraction, are taken.
        """
        options = Options()
        options.parseOptions(["--port", "9", "-n", "3", "--timeout", ".5"])
        self.assertEqual((options["port"], options["clients"]), (9, 3))
        self.assertEqual(options["timeout"], 0.5)

    def test_badValuesNameTheOption(self) -> None:
        """
        A bad port, count of clients, timeout or settle time is refused,
        naming the option.
        """
        for option, value in [
            ("--port", "0"),
            ("--port", "99999"),
            ("--clients", "1"),
            ("--clients", "\u00b2"),
            ("--timeout", "0"),
            ("--settle", "nan"),
        ]:
            with self.assertRaises(BadValueError) as raised:
                Options().parseOptions([option, value])
            self.assertTrue(str(raised.exception).startswith(f"{option}: "))
