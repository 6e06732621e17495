"""
C{chat-client}: the real command, through pipes and a terminal, against a
real server.
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

import pytest

import twisted
from tests.support.live import DEADLINE, StartServer, freePort, waitFor
from tests.support.tools import runTool, script


@pytest.mark.live
def test_pipeSendsEverythingAndPrintsWhatArrives(
    startServer: StartServer, tmp_path: Path
) -> None:
    """
    Through pipes the client sends every line as it is, the last one without
    a newline too, prints what arrives as it is, exits with 0 at the end of
    its input, and logs both ways with bytes escaped.
    """
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
    """
    A port nobody listens on fails with one line that says the connection
    was refused.
    """
    port = freePort()
    done = runTool("chat-client", "127.0.0.1", str(port), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"chat-client: cannot connect to 127.0.0.1:{port}: connection refused\n"
    )


@pytest.mark.live
def test_droppedByTheServer(startServer: StartServer, tmp_path: Path) -> None:
    """
    When the server closes the connection, the client prints what came
    before it, says so in one line and exits with 1.
    """
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
    """Bad arguments fail with one line that says what is wrong."""
    for arguments, message in [
        ([], "expected two arguments, HOST and PORT"),
        (["127.0.0.1", "http"], "'http' is not a port number (1-65535)"),
        (["--ca", "ca.pem", "127.0.0.1", "8080"], "--ca needs --tls"),
    ]:
        done = runTool("chat-client", *arguments, cwd=tmp_path)
        assert (done.returncode, done.stderr) == (1, f"chat-client: {message}\n")


@pytest.mark.live
def test_tls(startServer: StartServer, tmp_path: Path) -> None:
    """
    Over TLS with C{--ca} the client chats both ways and exits with 0 at the
    end of its input; without a trusted certificate it fails with one line.
    """
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


END_OF_LINE = b"\r\r\n"
"""
A line's end on the screen: the line editor ends lines with C{\\r\\n}, whose
C{\\n} the terminal's output processing makes C{\\r\\n} too.
"""


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
    """
    In a terminal, Ctrl+D or Ctrl+C ends the client with 0 and no traceback,
    the prompt erased and the terminal as it was; what was typed and
    received is logged.
    """
    server = startServer()
    observer = server.connect()
    terminal = Terminal(
        "--log", "client.log", "127.0.0.1", str(server.port), cwd=tmp_path
    )
    observer.expect(b"server: client 1 just arrived\n")
    observer.send(b"to the terminal\n")
    terminal.waitFor(b"client 0: to the terminal" + END_OF_LINE)
    terminal.type(b"typed\n")
    observer.expect(b"client 1: typed\n")
    terminal.type(key)
    observer.expect(b"server: client 1 just left\n")
    assert terminal.end() == 0
    assert b"Traceback" not in terminal.shown and b"chat-client:" not in terminal.shown
    # The prompt is erased and the terminal's insert mode turned off again.
    assert terminal.shown.endswith(b"\r\x1b[K\x1b[4l")
    log = (tmp_path / "client.log").read_text()
    assert "[TX] typed\n" in log and "[RX] client 0: to the terminal\n" in log


@pytest.mark.live
@pytest.mark.parametrize("raw", [False, True], ids=["escaped", "raw"])
def test_terminalShowsControlCharactersEscaped(
    startServer: StartServer, tmp_path: Path, raw: bool
) -> None:
    """
    In a terminal the client shows control characters in lines received
    escaped, so that they cannot drive it, except with C{--raw}, which shows
    them as they are.
    """
    server = startServer()
    observer = server.connect()
    options = ["--raw"] if raw else []
    terminal = Terminal(*options, "127.0.0.1", str(server.port), cwd=tmp_path)
    observer.expect(b"server: client 1 just arrived\n")
    observer.send(b"\x1b]0;pwned\x07\n\rserver: client 9 just left\ttab\n")
    observer.send(b"sentinel\n")
    terminal.waitFor(b"client 0: sentinel")
    if raw:
        assert b"client 0: \x1b]0;pwned\x07" + END_OF_LINE in terminal.shown
        left = b"client 0: \rserver: client 9 just left\ttab" + END_OF_LINE
        assert left in terminal.shown
    else:
        assert b"client 0: \\x1b]0;pwned\\x07" + END_OF_LINE in terminal.shown
        left = b"client 0: \\x0dserver: client 9 just left\ttab" + END_OF_LINE
        assert left in terminal.shown
        assert b"\x1b]" not in terminal.shown and b"\x07" not in terminal.shown
    terminal.type(b"\x04")
    assert terminal.end() == 0


@pytest.mark.live
def test_lineArrivingWhileTypingIsPrintedAbove(
    startServer: StartServer, tmp_path: Path
) -> None:
    """
    A line arriving while one is being typed is printed above it, the
    half-typed line shown again below, and sending it still sends the whole
    line.
    """
    server = startServer()
    observer = server.connect()
    terminal = Terminal("127.0.0.1", str(server.port), cwd=tmp_path)
    observer.expect(b"server: client 1 just arrived\n")
    terminal.type(b"half-typed")
    terminal.waitFor(b"half-typed")
    observer.send(b"message from c2\n")
    terminal.waitFor(
        b"\r\x1b[Kclient 0: message from c2" + END_OF_LINE + b"> half-typed"
    )
    terminal.type(b" and finished\n")
    observer.expect(b"client 1: half-typed and finished\n")
    terminal.waitFor(b"me: half-typed and finished" + END_OF_LINE + b"> ")
    terminal.type(b"\x04")
    observer.expect(b"server: client 1 just left\n")
    assert terminal.end() == 0
