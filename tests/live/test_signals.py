"""
Signals to a real server: SIGHUP and SIGUSR1 reopen its log, also after
twistd has switched to another user; a second SIGTERM or SIGINT during
shutdown changes nothing.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.live import (
    DEADLINE,
    TWISTD,
    Client,
    ServerProcess,
    StartServer,
    waitFor,
)


@pytest.mark.live
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGUSR1])
def test_movedLogReopened(startServer: StartServer, signum: int) -> None:
    """
    After the log is moved away, SIGHUP or SIGUSR1 makes the server write a
    new one: every line in the old or the new, once, and the reopening said
    in the new.
    """
    server = startServer()
    sender, reader = server.connect(), server.connect()
    before = [b"before %d" % n for n in range(50)]
    sender.send(b"".join(line + b"\n" for line in before))
    reader.expect(b"".join(b"client 0: " + line + b"\n" for line in before))
    moved = server.log.with_name("mini_serv.log.1")
    server.log.rename(moved)
    server.process.send_signal(signum)
    waitFor(server.log.exists, "a new log file")
    after = [b"after %d" % n for n in range(50)]
    sender.send(b"".join(line + b"\n" for line in after))
    reader.expect(b"".join(b"client 0: " + line + b"\n" for line in after))
    assert server.stop() == 0
    old, new = moved.read_text(), server.log.read_text()
    for line in before:
        assert old.count(f"[RX] [client 0] {line.decode()}\n") == 1
        assert line.decode() not in new
    for line in after:
        assert new.count(f"[RX] [client 0] {line.decode()}\n") == 1
        assert line.decode() not in old
    assert f"[log] received {signal.Signals(signum).name}, reopened the log" in new
    assert "[start] listening on" in old and "[stop] stopped" in new


@pytest.mark.live
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_secondStopSignalChangesNothing(startServer: StartServer, signum: int) -> None:
    """
    A second SIGTERM or SIGINT while the server waits to send a client its
    pending output is logged and changes nothing: the server stops cleanly,
    with no traceback.
    """
    server = startServer()
    sender, reader = server.connect(), server.connect()
    lazy = socket.socket()
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lazy.connect(("127.0.0.1", server.port))  # and never reads
    reader.expect(b"server: client 2 just arrived\n")
    # More than the kernel buffers for the lazy client: the rest waits in the
    # server, which then takes its grace period to shut down.
    line = b"x" * 1023 + b"\n"
    count = 16 * 1024
    sender.send(line * count)
    reader.expect((b"client 0: " + line) * count)
    server.process.send_signal(signum)
    reader.expect(b"server: shutting down\n")
    server.process.send_signal(signum)
    assert server.process.wait(DEADLINE) == 0
    lazy.close()
    log = server.logText()
    name = signal.Signals(signum).name
    assert log.count(f"[stop] received {name}\n") == 2
    assert "still had output pending" in log
    assert "ReactorNotRunning" not in log and "Traceback" not in log


class NobodyServer(ServerProcess):
    """
    C{twistd -n --uid nobody --gid nogroup chat}, started as root, with its
    log in C{directory}.
    """

    def __init__(self, cwd: Path, directory: Path) -> None:
        self.log = directory / "mini_serv.log"
        self.process = subprocess.Popen(
            [TWISTD, "-n", "--pidfile=", "--uid", "nobody", "--gid", "nogroup"]
            + ["chat", "--port", "0", "--logfile", str(self.log)],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        found = waitFor(self._listening, "the server to log its port")
        self.port = int(found.group(1))

    def _listening(self) -> re.Match[str] | None:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {self.process.stderr.read()!r}")  # type: ignore[union-attr]
        text = self.log.read_text() if self.log.exists() else ""
        return re.search(r"\[start\] listening on tcp 127\.0\.0\.1:(\d+)", text)


@pytest.fixture
def asNobody(tmp_path: Path) -> Iterator[Callable[[Path], NobodyServer]]:
    """Start L{NobodyServer}s, as root only; killed after the test."""
    if os.geteuid() != 0:
        pytest.skip("twistd --uid needs root")
    started: list[NobodyServer] = []

    def start(directory: Path) -> NobodyServer:
        started.append(NobodyServer(tmp_path, directory))
        return started[-1]

    yield start
    for server in started:
        server.kill()


def _nobodysDirectory() -> Path:
    """
    A directory that nobody owns, where nobody can reach it (pytest's
    temporary directories are root's alone); the caller removes it.
    """
    directory = Path(tempfile.mkdtemp(prefix="chat-nobody-"))
    os.chown(directory, NOBODY, -1)
    return directory


NOBODY = pwd.getpwnam("nobody").pw_uid


@pytest.mark.live
def test_logReopenedAfterTheSwitchToAnotherUser(
    asNobody: Callable[[Path], NobodyServer],
) -> None:
    """
    A server started as root with C{--uid nobody} has its log given to
    nobody before twistd switches: SIGHUP reopens the same file, and after
    the log is moved away, SIGHUP creates the new one, nobody's too.
    """
    directory = _nobodysDirectory()
    try:
        server = asNobody(directory)
        assert server.log.stat().st_uid == NOBODY
        sender, reader = Client(server.port), Client(server.port)
        sender.expect(b"server: client 1 just arrived\n")
        server.process.send_signal(signal.SIGHUP)
        waitFor(lambda: "reopen" in server.logText(), "the reopening logged")
        sender.send(b"before the move\n")
        reader.expect(b"client 0: before the move\n")
        moved = server.log.with_name("mini_serv.log.1")
        server.log.rename(moved)
        server.process.send_signal(signal.SIGHUP)
        waitFor(server.log.exists, "a new log file")
        assert server.log.stat().st_uid == NOBODY
        sender.send(b"after the move\n")
        reader.expect(b"client 0: after the move\n")
        assert server.stop() == 0
        old, new = moved.read_text(), server.logText()
        assert "[log] received SIGHUP, reopened the log" in old
        assert "[RX] [client 0] before the move\n" in old
        assert new.splitlines()[0].endswith("[log] received SIGHUP, reopened the log")
        assert "[RX] [client 0] after the move\n" in new
        assert "cannot" not in old + new
    finally:
        shutil.rmtree(directory)


@pytest.mark.live
def test_warnsWhenTheUserCannotCreateTheLog(
    asNobody: Callable[[Path], NobodyServer],
) -> None:
    """
    When the log's directory is not writable by the C{--uid} user, a warning
    at the start says that a renamed log cannot be created again.
    """
    directory = Path(tempfile.mkdtemp(prefix="chat-root-"))
    directory.chmod(0o755)
    try:
        server = asNobody(directory)
        assert server.stop() == 0
        log = server.logText()
        assert (
            f"[WARN] [server] [start] uid {NOBODY} cannot create files in"
            f" {str(directory)!r}: once the log is renamed"
        ) in log
        assert "[stop] stopped" in log
    finally:
        shutil.rmtree(directory)
