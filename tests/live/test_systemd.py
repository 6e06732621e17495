"""
The systemd units and the logrotate rules of C{contrib/}: the server started
on a socket that systemd holds (here C{systemd-socket-activate}, which
passes a listening socket the way systemd does), with the command line of
C{chat.service} and the memory rule it sets; the unit's exposure as
C{systemd-analyze security} rates it; the logrotate rules as C{logrotate}
reads them, and a rotation of a running server's log with them.
"""

from __future__ import annotations

import ctypes
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bcrypt
import pytest

from chat.core import wire
from tests.support.contrib import CONTRIB, setting
from tests.support.live import (
    DEADLINE,
    TWISTD,
    Client,
    StartServer,
    freePort,
    missing,
    program,
    waitFor,
)

PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1
"""Linux's prctl for memory that is never both writable and executable."""


def _activator() -> str:
    return program("systemd-socket-activate", "systemd")


def _memoryRules() -> None:
    """
    In the server's process, before it starts: refuse memory that is both
    writable and executable, as the unit's C{MemoryDenyWriteExecute=yes}
    does (systemd filters the same calls).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def _unitMemoryRules() -> bool:
    """
    Whether the unit sets C{MemoryDenyWriteExecute=yes}; skipped when this
    kernel cannot refuse such memory (Linux 6.3 has the call).
    """
    text = (CONTRIB / "chat.service").read_text()
    if not re.search(r"^MemoryDenyWriteExecute=yes$", text, re.MULTILINE):
        return False
    if ctypes.CDLL(None).prctl(PR_GET_MDWE, 0, 0, 0, 0) < 0:
        pytest.skip("this kernel has no prctl(PR_SET_MDWE) (Linux 6.3 and later)")
    return True


@contextmanager
def _activated(directory: Path, *arguments: str) -> Iterator[tuple[int, Path]]:
    """
    The server as C{chat.service} starts it, with C{arguments} added and the
    unit's memory rule, on a socket C{systemd-socket-activate} holds; yields
    the port and the log.  It must have exited with status 0 once stopped
    with SIGTERM, which the caller sends to the process by its port.
    """
    activator = _activator()
    memoryRules = _unitMemoryRules()
    port = freePort()
    address = setting("chat.socket", "ListenStream").replace(":8080", f":{port}")
    # systemd names every socket it passes (FileDescriptorName, or the
    # unit's name), and Twisted takes none without a name.
    name = setting("chat.socket", "FileDescriptorName")
    command = shlex.split(setting("chat.service", "ExecStart"))
    command[0] = TWISTD
    log = directory / "mini_serv.log"
    command[command.index("--logfile") + 1] = str(log)
    server = subprocess.Popen(
        [activator, "--listen", address, f"--fdname={name}", *command, *arguments],
        cwd=directory,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_memoryRules if memoryRules else None,
    )
    try:
        waitFor(lambda: _listening(port), "the activator to listen")
        yield port, log
        server.send_signal(signal.SIGTERM)
        assert server.wait(DEADLINE) == 0, server.stderr.read()  # type: ignore[union-attr]
    finally:
        if server.poll() is None:
            server.kill()
        server.stderr.close()  # type: ignore[union-attr]


@pytest.mark.live
def test_chatThroughTheActivatedSocket(tmp_path: Path) -> None:
    """
    The unit's command line serves on the socket systemd passes, under the
    unit's memory rule, and logs where it listens and what it relays.
    """
    with _activated(tmp_path) as (port, log):
        # The first connection starts the server, which accepts it from the
        # socket it was handed.
        first = Client(port)
        second = Client(port)
        first.expect(b"server: client 1 just arrived\n")
        second.send(b"through systemd's socket\n")
        first.expect(b"client 1: through systemd's socket\n")
        first.send(b"and back\n")
        second.expect(b"client 0: and back\n")
    text = log.read_text()
    assert re.search(rf"\[start\] listening on tcp 127\.0\.0\.1:{port}\n", text)
    assert "[RX] [client 1] through systemd's socket\n" in text
    assert "Traceback" not in text


@pytest.mark.live
def test_passwordLoginUnderTheUnitsMemoryRule(tmp_path: Path) -> None:
    """
    Under the unit's C{MemoryDenyWriteExecute=yes}, Python and bcrypt still
    work: a login against a bcrypt password file is checked and admitted.
    """
    users = tmp_path / "users"
    users.write_bytes(b"alice:" + bcrypt.hashpw(b"sesame", bcrypt.gensalt(4)) + b"\n")
    plain = ("--auth", str(users), "--auth-plaintext")
    with _activated(tmp_path, *plain) as (port, log):
        refused = Client(port)
        refused.send(b"/login alice wrong\n")
        assert refused.readToEnd() == wire.LOGIN_PROMPT + wire.LOGIN_FAILED
        alice = Client(port)
        alice.send(b"/login alice sesame\n/who\n")
        alice.expect(wire.LOGIN_PROMPT + b"server: 1 client: alice\n")
    text = log.read_text()
    assert "[AUTH] login failed for alice from 127.0.0.1" in text
    assert "Traceback" not in text


MOST_EXPOSURE = 4.0
"""The highest overall exposure C{systemd-analyze security} may give the unit."""


@pytest.mark.live
def test_unitExposure() -> None:
    """
    C{systemd-analyze security} rates C{chat.service} at most
    L{MOST_EXPOSURE} overall, where 10 is a service with no restriction.
    """
    analyze = program("systemd-analyze", "systemd")
    done = subprocess.run(
        [analyze, "security", "--offline=yes", "--no-pager"]
        + [str(CONTRIB / "chat.service")],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    if "--offline" in done.stderr:  # systemd before 250
        missing(f"systemd-analyze has no --offline: {done.stderr.strip()}")
    found = re.search(
        r"Overall exposure level for chat\.service: (\d+\.\d+)", done.stdout
    )
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= MOST_EXPOSURE, done.stdout


LOGROTATE = CONTRIB / "logrotate"


@pytest.mark.live
def test_logrotateReadsTheRules(tmp_path: Path) -> None:
    """
    C{logrotate} reads C{contrib/logrotate} without an error, and it rotates
    the log C{chat.service} writes.
    """
    logrotate = program("logrotate", "logrotate")
    done = subprocess.run(
        [logrotate, "--debug", "--state", str(tmp_path / "state"), str(LOGROTATE)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "error" not in output, output
    command = shlex.split(setting("chat.service", "ExecStart"))
    logfile = command[command.index("--logfile") + 1]
    assert f"rotating pattern: {logfile} " in output


@pytest.mark.live
def test_logrotateRotatesARunningServersLog(
    startServer: StartServer, tmp_path: Path
) -> None:
    """
    C{contrib/logrotate}'s rules, with the log's path and the command that
    signals the server adapted to a server started here, rotate its log:
    the lines before the rotation are in the rotated file, those after it
    in a new file the server created at the same path.
    """
    logrotate = program("logrotate", "logrotate")
    server = startServer()
    rules = LOGROTATE.read_text()
    command = shlex.split(setting("chat.service", "ExecReload"))
    assert command[1:] == ["-HUP", "$MAINPID"]
    assert "systemctl reload chat " in rules
    rules = rules.replace("/var/log/txchat/mini_serv.log", str(server.log))
    rules = rules.replace("systemctl reload chat ", f"kill -HUP {server.process.pid} ")
    config = tmp_path / "logrotate.conf"
    config.write_text(rules)
    sender, reader = server.connect(), server.connect()
    sender.send(b"before the rotation\n")
    reader.expect(b"client 0: before the rotation\n")
    waitFor(lambda: "before the rotation" in server.logText(), "the line in the log")
    subprocess.run(
        [logrotate, "--force", "--state", str(tmp_path / "state"), str(config)],
        check=True,
        timeout=DEADLINE,
    )
    waitFor(server.log.exists, "the server to create the new log")
    sender.send(b"after the rotation\n")
    reader.expect(b"client 0: after the rotation\n")
    assert server.stop() == 0
    rotated = server.log.with_name("mini_serv.log.1").read_text()
    new = server.logText()
    assert "before the rotation" in rotated and "after the rotation" not in rotated
    assert new.splitlines()[0].endswith("[log] received SIGHUP, reopened the log")
    assert "after the rotation" in new and "before the rotation" not in new


def _listening(port: int) -> bool:
    with open("/proc/net/tcp") as table:
        return any(
            fields[1].endswith(f":{port:04X}") and fields[3] == "0A"
            for fields in (line.split() for line in table.readlines()[1:])
        )
