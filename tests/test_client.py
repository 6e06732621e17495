"""
C{chat-client}: its pieces on in-memory transports, and the real command
through pipes against a real server.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import cast

import pytest
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import ILogObserver, LogEvent, Logger, LogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

import twisted
from chat.tools.client import (
    ERASE_LINE,
    HALF_CLOSE_GRACE,
    Display,
    Keyboard,
    LineEditor,
    PartialLines,
    ServerConnection,
)
from tests.live import DEADLINE, StartServer, freePort, waitFor
from tests.tools import runTool, script


class PartialLinesTests(SynchronousTestCase):
    def test_onlyCompleteLinesPassed(self) -> None:
        lines = PartialLines()
        self.assertEqual(lines.complete(b"one\ntw"), b"one\n")
        self.assertEqual(lines.complete(b"o"), b"")
        self.assertEqual(lines.complete(b"\nthree\nfo"), b"two\nthree\n")
        self.assertEqual(lines.rest(), b"fo")
        self.assertEqual(lines.rest(), b"")


class HalfCloseableTransport(StringTransport):
    writeClosed = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True


class ConnectionTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.events: list[LogEvent] = []
        log = Logger(observer=cast(ILogObserver, self.events.append))
        self.display = Display(log, timestamps=False)
        self.stdout = StringTransport()
        self.display.attach(self.stdout)
        self.clock = Clock()
        self.server = ServerConnection(self.display, self.clock)
        self.network = HalfCloseableTransport()
        self.server.makeConnection(self.network)
        self.keyboard = Keyboard(self.server)
        self.keyboard.makeConnection(self.stdout)

    def logged(self, category: str) -> list[str]:
        return [e["line"] for e in self.events if e.get("category") == category]

    def test_partialLineHeldUntilItsNewline(self) -> None:
        self.server.dataReceived(b"client 0: hel")
        self.assertEqual(self.stdout.value(), b"")
        self.server.dataReceived(b"lo\nclient 0: \xff\x00\n")
        self.assertEqual(self.stdout.value(), b"client 0: hello\nclient 0: \xff\x00\n")
        self.assertEqual(self.logged("RX"), ["client 0: hello", "client 0: \\xff\\x00"])

    def test_partialLinePrintedWhenTheConnectionEnds(self) -> None:
        self.server.dataReceived(b"server: client 3 just arrived\nno newline")
        self.server.connectionLost(Failure(ConnectionError()))
        self.assertEqual(
            self.stdout.value(), b"server: client 3 just arrived\nno newline"
        )
        self.assertIsNone(self.successResultOf(self.server.ended))
        self.assertFalse(self.server.closing)

    def test_linesBeforeThereIsAnOutputAreHeld(self) -> None:
        display = Display(Logger(observer=LogPublisher()), timestamps=False)
        display.show(b"early\n")
        late = StringTransport()
        display.attach(late)
        display.show(b"late\n")
        self.assertEqual(late.value(), b"early\nlate\n")

    def test_readyAtOnceOverTCPAfterTheHandshakeOverTLS(self) -> None:
        self.successResultOf(self.server.ready)
        secure = ServerConnection(self.display, self.clock, secure=True)
        secure.makeConnection(StringTransport())
        self.assertNoResult(secure.ready)
        secure.handshakeCompleted()
        self.successResultOf(secure.ready)

    def test_failedHandshakeFailsReady(self) -> None:
        secure = ServerConnection(self.display, self.clock, secure=True)
        secure.makeConnection(StringTransport())
        secure.connectionLost(Failure(ConnectionError("certificate verify failed")))
        self.failureResultOf(secure.ready, ConnectionError)

    def test_timestamps(self) -> None:
        self.display.timestamps = True
        self.server.dataReceived(b"a\nb\n")
        stamped = self.stdout.value().split(b"\n")
        self.assertRegex(stamped[0], rb"^\d\d:\d\d:\d\d a$")
        self.assertRegex(stamped[1], rb"^\d\d:\d\d:\d\d b$")

    def test_typedBytesSentUnchangedAndLogged(self) -> None:
        self.keyboard.dataReceived(b"hi\r\nthere\npart")
        self.assertEqual(self.network.value(), b"hi\r\nthere\npart")
        self.assertEqual(self.logged("TX"), ["hi", "there", "part"])

    def test_loginSentButNotLogged(self) -> None:
        self.keyboard.dataReceived(b"/login alice s3cret\n")
        self.assertEqual(self.network.value(), b"/login alice s3cret\n")
        self.assertEqual(self.logged("TX"), ["/login"])

    def test_endOfInputShutsDownTheSendingHalf(self) -> None:
        self.keyboard.readConnectionLost()
        self.assertTrue(self.server.closing)
        self.assertTrue(self.network.writeClosed)
        self.assertFalse(self.network.disconnecting)
        self.server.dataReceived(b"still printed\n")
        self.assertEqual(self.stdout.value(), b"still printed\n")
        self.server.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_endOfInputAfterTheConnectionIsGone(self) -> None:
        self.server.connectionLost(Failure(ConnectionDone()))
        self.keyboard.readConnectionLost()
        self.assertFalse(self.network.writeClosed)
        self.assertFalse(self.server.closing)

    def test_serverThatDoesNotCloseIsLeft(self) -> None:
        self.keyboard.readConnectionLost()
        self.clock.advance(HALF_CLOSE_GRACE)
        self.assertTrue(self.network.disconnecting)


@pytest.mark.live
def test_pipeSendsEverythingAndPrintsWhatArrives(
    startServer: StartServer, tmp_path: Path
) -> None:
    server = startServer()
    observer = server.connect()
    client = subprocess.Popen(
        [script("chat-client"), "--log", "client.log", "127.0.0.1", str(server.port)],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert client.stdin is not None and client.stdout is not None
    observer.expect(b"server: client 1 just arrived\n")
    observer.send(b"welcome \x1b[2J\x07\rx\n")
    client.stdin.write(b"first\n\xff binary \x00\n")
    client.stdin.flush()
    observer.expect(b"client 1: first\nclient 1: \xff binary \x00\n")
    client.stdin.write(b"last, no newline")
    client.stdin.close()
    observer.expect(b"client 1: last, no newline\nserver: client 1 just left\n")
    assert client.wait(DEADLINE) == 0
    assert client.stdout.read() == b"client 0: welcome \x1b[2J\x07\rx\n"
    assert client.stderr.read() == b""  # type: ignore[union-attr]
    log = (tmp_path / "client.log").read_text()
    for event in [
        f"[INFO] [client] [STATE] connected to 127.0.0.1:{server.port}\n",
        "[INFO] [client] [RX] client 0: welcome \\x1b[2J\\x07\\x0dx\n",
        "[INFO] [client] [TX] first\n",
        "[INFO] [client] [TX] \\xff binary \\x00\n",
        "[INFO] [client] [TX] last, no newline\n",
    ]:
        assert event in log


@pytest.mark.live
def test_closedPort(tmp_path: Path) -> None:
    port = freePort()
    done = runTool("chat-client", "127.0.0.1", str(port), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"chat-client: cannot connect to 127.0.0.1:{port}: connection refused\n"
    )


@pytest.mark.live
def test_droppedByTheServer(startServer: StartServer, tmp_path: Path) -> None:
    server = startServer()
    client = subprocess.Popen(
        [script("chat-client"), "127.0.0.1", str(server.port)],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    waitFor(lambda: "client 0 connected" in server.logText(), "the client")
    assert server.stop() == 0
    out, err = client.communicate(timeout=DEADLINE)
    assert client.returncode == 1
    assert out == b"server: shutting down\n"
    assert (
        err
        == (
            f"chat-client: connection to 127.0.0.1:{server.port} closed by the server\n"
        ).encode()
    )


@pytest.mark.live
def test_badArguments(tmp_path: Path) -> None:
    for arguments, message in [
        ([], "expected two arguments, HOST and PORT"),
        (["127.0.0.1", "http"], "'http' is not a port number (1-65535)"),
        (["--ca", "ca.pem", "127.0.0.1", "8080"], "--ca needs --tls"),
    ]:
        done = runTool("chat-client", *arguments, cwd=tmp_path)
        assert (done.returncode, done.stderr) == (1, f"chat-client: {message}\n")


@pytest.mark.live
def test_tls(startServer: StartServer, tmp_path: Path) -> None:
    certificate = str(Path(twisted.__file__).parent / "test" / "server.pem")
    server = startServer(
        "--listen", f"ssl:0:privateKey={certificate}:interface=127.0.0.1"
    )
    context = ssl.create_default_context(cafile=certificate)
    observer = context.wrap_socket(
        socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE),
        server_hostname="localhost",
    )
    trusting = [script("chat-client"), "--tls", "--ca", certificate]
    client = subprocess.Popen(
        [*trusting, "localhost", str(server.port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert observer.recv(100) == b"server: client 1 just arrived\n"
    observer.sendall(b"over tls\n")
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write(b"back over tls\n")
    client.stdin.flush()
    assert observer.recv(100) == b"client 1: back over tls\n"
    client.stdin.close()  # no half-close over TLS: it closes at once
    assert client.wait(DEADLINE) == 0
    assert client.stdout.read() == b"client 0: over tls\n"
    observer.close()
    untrusting = runTool("chat-client", "--tls", "localhost", str(server.port))
    assert untrusting.returncode == 1
    assert "certificate verify failed" in untrusting.stderr
    assert untrusting.stderr.count("\n") == 1


class LineEditorTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.editor = LineEditor()

    def test_typedLinesEchoedAndFinished(self) -> None:
        self.assertEqual(
            self.editor.feed(b"hi\tyou\nnext"),
            (b"hi\tyou\nnext", [b"hi\tyou\n"], False),
        )
        self.assertEqual(self.editor.typed, b"next")

    def test_backspaceRemovesACharacterNotAByte(self) -> None:
        self.editor.feed("né".encode())
        echo, _, _ = self.editor.feed(b"\x7f")
        self.assertEqual((self.editor.typed, echo), (b"n", ERASE_LINE + b"n"))
        self.editor.feed(b"\x7f\x7f")
        self.assertEqual(self.editor.typed, b"")

    def test_eraseLineAndIgnoredKeys(self) -> None:
        self.editor.feed(b"abc\x15")
        self.assertEqual(self.editor.typed, b"")
        self.editor.feed(b"x\x1b[A\x1bOB\x01\x1b[1;5Cy")  # arrows, Ctrl+A
        self.assertEqual(self.editor.typed, b"xy")

    def test_ctrlDEndsInputOnAnEmptyLineOnly(self) -> None:
        self.assertEqual(self.editor.feed(b"a\x04"), (b"a", [], False))
        self.assertEqual(self.editor.feed(b"\n\x04"), (b"\n", [b"a\n"], True))

    def test_receivedLinesPrintedAboveTheInput(self) -> None:
        self.assertEqual(self.editor.above(b"line\n"), b"line\n")
        self.editor.feed(b"half")
        self.assertEqual(self.editor.above(b"line\n"), ERASE_LINE + b"line\nhalf")


class TerminalDisplayTests(SynchronousTestCase):
    def test_controlCharactersEscapedButTab(self) -> None:
        display = Display(Logger(observer=LogPublisher()), False, escape=True)
        output = StringTransport()
        display.attach(output)
        display.show(b"client 0: \x1b]0;pwned\x07\n\rserver: forged\ta\xc2\x9b\xff\n")
        display.show("no newline, é".encode())
        self.assertEqual(
            output.value(),
            b"client 0: \\x1b]0;pwned\\x07\n\\x0dserver: forged\ta\\x9b\\xff\n"
            + "no newline, é".encode(),
        )


class Terminal:
    """C{chat-client} on a pseudo-terminal of its own."""

    def __init__(self, *arguments: str, cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: nothing but exec
            os.chdir(cwd)
            os.execv(script("chat-client"), ["chat-client", *arguments])
        self.shown = b""

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def waitFor(self, expected: bytes) -> None:
        """Read what is shown until C{expected} has been."""
        end = time.monotonic() + DEADLINE
        while expected not in self.shown:
            left = end - time.monotonic()
            assert left > 0, f"{expected!r} not in {self.shown!r}"
            if select.select([self.fd], [], [], left)[0]:
                self.shown += os.read(self.fd, 4096)

    def end(self) -> int:
        """Read to the end, and return the exit status."""
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # EIO: the other side of the terminal is closed
                break
            if not chunk:
                break
            self.shown += chunk
        os.close(self.fd)
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


@pytest.mark.live
@pytest.mark.parametrize("key", [b"\x04", b"\x03"], ids=["Ctrl+D", "Ctrl+C"])
def test_terminalEndsCleanly(
    startServer: StartServer, tmp_path: Path, key: bytes
) -> None:
    server = startServer()
    observer = server.connect()
    terminal = Terminal(
        "--log", "client.log", "127.0.0.1", str(server.port), cwd=tmp_path
    )
    observer.expect(b"server: client 1 just arrived\n")
    observer.send(b"to the terminal\n")
    terminal.waitFor(b"client 0: to the terminal\r\n")
    terminal.type(b"typed\n")
    observer.expect(b"client 1: typed\n")
    terminal.type(key)
    observer.expect(b"server: client 1 just left\n")
    assert terminal.end() == 0
    assert b"Traceback" not in terminal.shown and b"chat-client:" not in terminal.shown
    log = (tmp_path / "client.log").read_text()
    assert "[TX] typed\n" in log and "[RX] client 0: to the terminal\n" in log


@pytest.mark.live
@pytest.mark.parametrize("raw", [False, True], ids=["escaped", "raw"])
def test_terminalShowsControlCharactersEscaped(
    startServer: StartServer, tmp_path: Path, raw: bool
) -> None:
    server = startServer()
    observer = server.connect()
    options = ["--raw"] if raw else []
    terminal = Terminal(*options, "127.0.0.1", str(server.port), cwd=tmp_path)
    observer.expect(b"server: client 1 just arrived\n")
    observer.send(b"\x1b]0;pwned\x07\n\rserver: client 9 just left\ttab\n")
    observer.send(b"sentinel\n")
    terminal.waitFor(b"client 0: sentinel")
    if raw:
        assert b"client 0: \x1b]0;pwned\x07\r\n" in terminal.shown
        assert b"client 0: \rserver: client 9 just left\ttab\r\n" in terminal.shown
    else:
        assert b"client 0: \\x1b]0;pwned\\x07\r\n" in terminal.shown
        assert b"client 0: \\x0dserver: client 9 just left\ttab\r\n" in terminal.shown
        assert b"\x1b]" not in terminal.shown and b"\x07" not in terminal.shown
    terminal.type(b"\x04")
    assert terminal.end() == 0


@pytest.mark.live
def test_lineArrivingWhileTypingIsPrintedAbove(
    startServer: StartServer, tmp_path: Path
) -> None:
    server = startServer()
    observer = server.connect()
    terminal = Terminal("127.0.0.1", str(server.port), cwd=tmp_path)
    observer.expect(b"server: client 1 just arrived\n")
    terminal.type(b"half-typed")
    terminal.waitFor(b"half-typed")
    observer.send(b"message from c2\n")
    terminal.waitFor(ERASE_LINE + b"client 0: message from c2\r\nhalf-typed")
    terminal.type(b" and finished\n")
    observer.expect(b"client 1: half-typed and finished\n")
    terminal.type(b"\x04")
    observer.expect(b"server: client 1 just left\n")
    assert terminal.end() == 0
