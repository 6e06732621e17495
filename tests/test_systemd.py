"""
The systemd units of C{contrib/}: the server started on a socket that
systemd holds (here C{systemd-socket-activate}, which passes a listening
socket the way systemd does), with the command line of C{chat.service}.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.live import DEADLINE, TWISTD, Client, freePort, waitFor

CONTRIB = Path(__file__).resolve().parent.parent / "contrib"


def _setting(unit: str, name: str) -> str:
    text = (CONTRIB / unit).read_text()
    [value] = re.findall(rf"^{name}=(.*)$", text, re.MULTILINE)
    return value


def _activator() -> str:
    found = shutil.which("systemd-socket-activate")
    if found is None:
        missing = (
            "systemd-socket-activate is not installed (Debian: apt-get install systemd)"
        )
        # Under CI a missing program is a failure, elsewhere a skip.
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    return found


def test_unitsAgree() -> None:
    assert _setting("chat.service", "Requires") == "chat.socket"
    command = shlex.split(_setting("chat.service", "ExecStart"))
    assert command[command.index("--listen") + 1] == "systemd:domain=INET:index=0"
    assert _setting("chat.socket", "ListenStream") == "127.0.0.1:8080"


@pytest.mark.live
def test_chatThroughTheActivatedSocket(tmp_path: Path) -> None:
    activator = _activator()
    port = freePort()
    address = _setting("chat.socket", "ListenStream").replace(":8080", f":{port}")
    # systemd names every socket it passes (FileDescriptorName, or the
    # unit's name), and Twisted takes none without a name.
    name = _setting("chat.socket", "FileDescriptorName")
    command = shlex.split(_setting("chat.service", "ExecStart"))
    command[0] = TWISTD
    log = tmp_path / "mini_serv.log"
    command[command.index("--logfile") + 1] = str(log)
    server = subprocess.Popen(
        [activator, "--listen", address, f"--fdname={name}", *command],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        waitFor(lambda: _listening(port), "the activator to listen")
        # The first connection starts the server, which accepts it from the
        # socket it was handed.
        first = Client(port)
        second = Client(port)
        first.expect(b"server: client 1 just arrived\n")
        second.send(b"through systemd's socket\n")
        first.expect(b"client 1: through systemd's socket\n")
        first.send(b"and back\n")
        second.expect(b"client 0: and back\n")
        server.send_signal(signal.SIGTERM)
        assert server.wait(DEADLINE) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.stderr.close()  # type: ignore[union-attr]
    text = log.read_text()
    assert re.search(rf"\[start\] listening on 127\.0\.0\.1:{port}\n", text)
    assert "[RX] [client 1] through systemd's socket\n" in text


def _listening(port: int) -> bool:
    with open("/proc/net/tcp") as table:
        return any(
            fields[1].endswith(f":{port:04X}") and fields[3] == "0A"
            for fields in (line.split() for line in table.readlines()[1:])
        )
