"""
C{chat-tester}: the transcript it expects, and the real command against the
real server and against servers that get the protocol wrong.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from twisted.internet.testing import StringTransport
from twisted.logger import Logger, LogPublisher
from twisted.trial.unittest import SynchronousTestCase

from chat.app.parsing import BadValueError
from chat.tools.tester import (
    Options,
    Recorder,
    expectedTranscript,
    firstArrivalId,
    lineOf,
    transcriptDiff,
)
from tests.live import Client, StartServer
from tests.tools import WrongServer, runTool, serving


class TranscriptTests(SynchronousTestCase):
    def test_expectedForThreeClientsFromId5(self) -> None:
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
        self.assertEqual(firstArrivalId(b"server: client 12 just arrived\n"), 12)
        self.assertEqual(firstArrivalId(b"client 3: server: client 9 just\n"), None)
        self.assertEqual(firstArrivalId(b""), None)

    def test_noDiffWhenEqual(self) -> None:
        expected = expectedTranscript(0, 4)
        self.assertEqual(transcriptDiff(expected, b"".join(expected)), [])

    def test_diffShowsAnEchoAndAMissingNewline(self) -> None:
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
        recorder = Recorder(0, Logger(observer=LogPublisher()))
        recorder.makeConnection(StringTransport())
        waiter = recorder.linesReceived(2)
        recorder.dataReceived(b"one\ntw")
        self.assertNoResult(waiter)
        recorder.dataReceived(b"o\n")
        self.successResultOf(waiter)
        self.successResultOf(recorder.linesReceived(1))


@pytest.mark.live
def test_passesAgainstTheServer(startServer: StartServer, tmp_path: Path) -> None:
    server = startServer()
    Client(server.port).close()  # that was client 0: the tester's start at 1
    done = runTool("chat-tester", "--port", str(server.port), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == (
        "chat-tester: PASS: 10 connections; the one that stayed received 27 lines,"
        " exactly as expected\n"
    )
    log = (tmp_path / "tester.log").read_text()
    assert "[INFO] [tester] [RX] [connection 0] server: client 2 just arrived\n" in log
    assert "[INFO] [tester] [TX] [connection 9] hello from tester connection 9\n" in log
    assert "[INFO] [tester] [result] PASS: 10 connections;" in log


@pytest.mark.live
def test_failsWithADiffAgainstAnEchoingServer(tmp_path: Path) -> None:
    wrong = WrongServer(echo=True)
    with serving(wrong):
        port = str(wrong.server_address[1])
        done = runTool("chat-tester", "--port", port, "--clients", "3", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith(
        "chat-tester: FAIL: the connection that stayed did not receive what it should"
    )
    lines = done.stdout.splitlines()
    added = [line[1:] for line in lines if line[:1] == "+" and line[:3] != "+++"]
    removed = [line[1:] for line in lines if line[:1] == "-" and line[:3] != "---"]
    assert "client 0: hello from tester connection 0" in added
    # Nothing missing; other lines at most moved (the fake's threads race).
    assert set(removed) <= set(added)
    assert "[result] FAIL" in (tmp_path / "tester.log").read_text()


@pytest.mark.live
def test_failsWithADiffWhenNoticesAreMissing(tmp_path: Path) -> None:
    wrong = WrongServer(announceLeaving=False)
    with serving(wrong):
        port = str(wrong.server_address[1])
        done = runTool(
            "chat-tester", "--port", port, "--clients", "3", "--timeout", "0.3",
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 1
    assert "(timed out waiting for leave notice 1)" in done.stdout
    assert "\n-server: client 1 just left\n-server: client 2 just left" in done.stdout


@pytest.mark.live
def test_refused(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        done = runTool("chat-tester", "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"chat-tester: cannot connect to 127.0.0.1:{port}")
    assert done.stderr.count("\n") == 1


class OptionsTests(SynchronousTestCase):
    def test_values(self) -> None:
        options = Options()
        options.parseOptions(["--port", "9", "-n", "3", "--timeout", ".5"])
        self.assertEqual((options["port"], options["clients"]), (9, 3))
        self.assertEqual(options["timeout"], 0.5)

    def test_badValuesNameTheOption(self) -> None:
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
