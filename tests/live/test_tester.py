"""
C{chat-tester}: the real command against the real server and against
servers that get the protocol wrong.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.live import Client, StartServer
from tests.support.tools import WrongServer, runTool, serving


@pytest.mark.live
def test_passesAgainstTheServer(startServer: StartServer, tmp_path: Path) -> None:
    """
    C{chat-tester} passes against the server, whatever id it starts from,
    says so in one line, and logs what it sent and received.
    """
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
    """
    Against a server that sends clients their own lines, C{chat-tester}
    fails with a difference that shows the line sent back.
    """
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
    """
    Against a server that does not announce departures, C{chat-tester} fails
    on its timeout, with a difference that shows the missing notices.
    """
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
    """A port nobody listens on fails with one line that says it cannot connect."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        done = runTool("chat-tester", "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"chat-tester: cannot connect to 127.0.0.1:{port}")
    assert done.stderr.count("\n") == 1
