"""
Signals to a real server: SIGHUP and SIGUSR1 reopen its log, a second
SIGTERM or SIGINT during shutdown changes nothing.
"""

from __future__ import annotations

import signal
import socket

import pytest

from tests.live import DEADLINE, StartServer, waitFor


@pytest.mark.live
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGUSR1])
def test_movedLogReopened(startServer: StartServer, signum: int) -> None:
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
