"""
A real C{twistd chat} process and blocking loopback clients for it.

Every wait here polls towards a deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

TWISTD = str(Path(sys.executable).with_name("twistd"))
DEADLINE = 20.0
"""Seconds any single wait may take before the test fails."""


def waitFor(condition: Callable[[], object], what: str, timeout: float = DEADLINE):
    """Poll C{condition} until it returns something true; return that."""
    end = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def program(name: str, package: str) -> str:
    """
    The path of the program C{name}; the test is skipped when it is missing,
    except under CI, where it fails.
    """
    found = shutil.which(name)
    if found is None:
        missing(f"{name} is not installed (Debian: apt-get install {package})")
    return found


def missing(what: str) -> NoReturn:
    """
    Skip the test for C{what} it needs and is missing; under CI, where
    every program is there, fail it.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(what)
    pytest.skip(what)


def freePort() -> int:
    """A port that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Client:
    """A loopback client that reads with a deadline."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=DEADLINE)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def expect(self, data: bytes) -> None:
        """Read until C{data} has arrived; it must be exactly what comes next."""
        while len(self.buffer) < len(data):
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                break
            self.buffer += chunk
        got, self.buffer = self.buffer[: len(data)], self.buffer[len(data) :]
        assert got == data, f"expected {data[:200]!r}, got {got[:200]!r}"

    def readToEnd(self) -> bytes:
        """Everything until the server closes the connection."""
        while chunk := self.sock.recv(1 << 20):
            self.buffer += chunk
        data, self.buffer = self.buffer, b""
        return data

    def close(self) -> None:
        self.sock.close()


class ServerProcess:
    """A server in a subprocess, with its log in C{log}."""

    process: subprocess.Popen[bytes]
    log: Path

    def logText(self) -> str:
        return self.log.read_text()

    def peakMemory(self) -> int:
        """The server's peak resident set size, in bytes."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal the server and return its exit status."""
        self.process.send_signal(signum)
        return self.process.wait(DEADLINE)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(DEADLINE)
        self.process.stderr.close()  # type: ignore[union-attr]


class Server(ServerProcess):
    """C{twistd -n chat} started in C{directory}, listening on a free port."""

    def __init__(
        self, directory: Path, *arguments: str, openFiles: int | None = None
    ) -> None:
        self.directory = directory
        self.log = directory / "mini_serv.log"
        self.process = subprocess.Popen(
            [TWISTD, "-n", "--pidfile=", "chat", "--port", "0", *arguments],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=None if openFiles is None else lambda: _limitFiles(openFiles),
        )
        self.clients: list[Client] = []
        try:
            found = waitFor(self._listening, "the server to log its port")
        except BaseException:
            self.kill()
            raise
        self.port = int(found.group(1))

    def _listening(self) -> re.Match[str] | None:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {self.process.stderr.read()!r}")  # type: ignore[union-attr]
        text = self.log.read_text() if self.log.exists() else ""
        return re.search(r"\[start\] listening on (?:tcp|ssl) 127\.0\.0\.1:(\d+)", text)

    def connect(self) -> Client:
        """A new client, once every client before it has seen it arrive."""
        client = Client(self.port)
        clientId = len(self.clients)
        for other in self.clients:
            other.expect(b"server: client %d just arrived\n" % clientId)
        self.clients.append(client)
        return client

    def kill(self) -> None:
        super().kill()
        for client in self.clients:
            client.close()


StartServer = Callable[..., Server]
"""The C{startServer} fixture: start C{twistd -n chat --port 0 ARGUMENTS}."""


def _limitFiles(count: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


def run(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run C{twistd -n chat ARGUMENTS} to completion."""
    return subprocess.run(
        [TWISTD, "-n", "--pidfile=", "chat", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )


class WebPortServers:
    """
    Servers started one after the other on one web port, as a restart
    does: each in a directory of its own under C{directory}, with the same
    C{arguments} and C{--web} on L{port}.
    """

    def __init__(self, directory: Path, *arguments: str) -> None:
        self.port = freePort()
        self._directory = directory
        self._arguments = (*arguments, "--web", f"tcp:{self.port}:interface=127.0.0.1")
        self._started = 0

    def start(self) -> Server:
        """The next server on the port, started."""
        self._started += 1
        place = self._directory / f"server-{self._started}"
        place.mkdir()
        return Server(place, *self._arguments)
