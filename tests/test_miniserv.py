"""
C{mini_serv PORT}, run as a grader runs it.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import Client, ServerProcess, freePort, waitFor
from tests.tools import runTool, script

GRADER_DELAY = 0.5
"""Seconds after starting mini_serv at which graders connect."""


class MiniServ(ServerProcess):
    """C{mini_serv PORT} started in a directory, and when it started."""

    def __init__(self, directory: Path, port: int) -> None:
        self.port = port
        self.log = directory / "mini_serv.log"
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [script("mini_serv"), str(port)],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def connect(self) -> Client:
        """Connect as soon as it listens, polling."""
        return waitFor(self._tryConnect, "mini_serv to listen")

    def _tryConnect(self) -> Client | None:
        assert self.process.poll() is None, self.process.stderr.read()  # type: ignore[union-attr]
        try:
            return Client(self.port)
        except ConnectionRefusedError:
            return None


@pytest.fixture
def miniServ(tmp_path: Path) -> Iterator[MiniServ]:
    server = MiniServ(tmp_path, freePort())
    yield server
    server.kill()


@pytest.mark.live
@pytest.mark.parametrize("arguments", [[], ["8080", "8081"], ["1", "2", "3"]])
def test_wrongNumberOfArguments(tmp_path: Path, arguments: list[str]) -> None:
    done = runTool("mini_serv", *arguments, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "Wrong number of arguments\n",
    )


@pytest.mark.live
@pytest.mark.parametrize("port", ["abc", "70000", "-1", "80a", ""])
def test_badPortIsFatal(tmp_path: Path, port: str) -> None:
    done = runTool("mini_serv", port, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "Fatal error\n")


@pytest.mark.live
def test_busyPortIsFatal(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = runTool("mini_serv", str(taken.getsockname()[1]), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "Fatal error\n")


@pytest.mark.live
def test_unwritableLogIsFatal(tmp_path: Path) -> None:
    (tmp_path / "mini_serv.log").mkdir()
    done = runTool("mini_serv", str(freePort()), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "Fatal error\n")


@pytest.mark.live
def test_listeningWithinHalfASecond(miniServ: MiniServ) -> None:
    first = miniServ.connect()
    connected = time.monotonic() - miniServ.started
    assert connected < GRADER_DELAY, f"first connect after {connected:.3f} s"
    # Accepted by the server itself, not only by the kernel's backlog:
    second = Client(miniServ.port)
    first.expect(b"server: client 1 just arrived\n")
    second.send(b"served\n")
    first.expect(b"client 1: served\n")


@pytest.mark.live
def test_twoClientsChatAndTheLogSaysSo(miniServ: MiniServ) -> None:
    a = miniServ.connect()
    b = Client(miniServ.port)
    a.expect(b"server: client 1 just arrived\n")
    a.send(b"hello b\r\n")
    b.expect(b"client 0: hello b\n")
    b.send(b"hello a\n")
    a.expect(b"client 1: hello a\n")
    b.close()
    a.expect(b"server: client 1 just left\n")
    assert miniServ.stop() == 0
    assert a.readToEnd() == b"server: shutting down\n"
    log = miniServ.log.read_text()
    for event in [
        f"[INFO] [server] [start] listening on 127.0.0.1:{miniServ.port}\n",
        "[INFO] [server] [STATE] client 0 connected from 127.0.0.1:",
        "[INFO] [server] [RX] [client 0] hello b\n",
        "[INFO] [server] [BROADCAST] to 1 client\n",
        "[INFO] [server] [RX] [client 1] hello a\n",
        "[INFO] [server] [STATE] client 1 disconnected (connection closed cleanly)\n",
        "[INFO] [server] [stop] received SIGTERM\n",
        "[INFO] [server] [stop] shutting down, 1 client connected\n",
    ]:
        assert event in log


@pytest.mark.live
def test_sigintShutsDownCleanly(miniServ: MiniServ) -> None:
    client = miniServ.connect()
    Client(miniServ.port).close()
    client.expect(b"server: client 1 just arrived\n")  # the reactor runs
    assert miniServ.stop(signal.SIGINT) == 0
    assert client.readToEnd() == b"server: client 1 just left\nserver: shutting down\n"
