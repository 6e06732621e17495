"""
What the log says of each listener: its kind (C{tcp}, C{ssl}, C{unix}) and
its address, with a warning for a UNIX socket any local user may connect to.
"""

from __future__ import annotations

import re
import socket
import stat
from pathlib import Path

import pytest
import trustme

from tests.support.live import StartServer, waitFor


@pytest.mark.live
def test_eachListenerNamesItsKind(startServer: StartServer, tmp_path: Path) -> None:
    """
    A TCP, a TLS and two UNIX listeners are each logged with their kind; the
    UNIX socket given no mode (Twisted's default lets everyone connect) gets
    a warning, the one given C{mode=660} none, and its mode is that.
    """
    certificate = trustme.CA().issue_cert("127.0.0.1")
    certificate.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "tls.pem"))
    server = startServer(
        "--listen",
        "tcp:0:interface=127.0.0.1",
        "--listen",
        "ssl:0:interface=127.0.0.1:privateKey=tls.pem",
        "--listen",
        "unix:open.sock",
        "--listen",
        "unix:closed.sock:mode=660",
    )
    # Each listener's warning, if any, is logged right after its line.
    waitFor(
        lambda: (
            "listening on unix closed.sock\n" in server.logText()
            and "listening on unix open.sock\n" in server.logText()
        ),
        "both UNIX listeners",
    )
    log = server.logText()
    assert re.search(rf"\[start\] listening on tcp 127\.0\.0\.1:{server.port}\n", log)
    assert re.search(r"\[start\] listening on ssl 127\.0\.0\.1:\d+\n", log)
    warnings = [line for line in log.splitlines() if "[WARN]" in line]
    assert [line.split("] ", 3)[-1] for line in warnings] == [
        "unix socket open.sock is open to every local user (mode 666):"
        " give it mode=660 or less in --listen"
    ]
    assert stat.S_IMODE((tmp_path / "closed.sock").stat().st_mode) == 0o660
    reader = server.connect()
    with socket.socket(socket.AF_UNIX) as local:
        local.connect(str(tmp_path / "closed.sock"))
        reader.expect(b"server: client 1 just arrived\n")
        local.sendall(b"over the closed socket\n")
        reader.expect(b"client 1: over the closed socket\n")
