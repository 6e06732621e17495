"""
Commands act on whole lines, with a real server and --max-line 100: a
command or a login longer than that is refused whole, and no byte of it
reaches another client or the log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.core import wire
from tests.support.accounts import chatPasswd, login
from tests.support.live import StartServer, waitFor

PASSWORD = "p" * 72
"""All of mallory's password that bcrypt reads."""

TAIL = b"-SECRET-TAIL-" + b"q" * 37


@pytest.mark.live
def test_overlongLogin(startServer: StartServer, tmp_path: Path) -> None:
    """
    A /login whose password runs past --max-line fails, though its first
    72 bytes are right: nothing of it reaches the room, whose next arrival
    and line (the sentinel) come first, nor the log.
    """
    users = tmp_path / "users"
    for name, password in (("alice", "a"), ("bob", "b"), ("mallory", PASSWORD)):
        assert chatPasswd(users, name, password).returncode == 0
    server = startServer("--auth", str(users), "--max-line", "100")
    alice = login(server.port, b"alice", b"a")
    alice.send(b"/who\n")
    alice.expect(wire.who([b"alice"]))
    mallory = login(server.port, b"mallory", PASSWORD.encode() + TAIL)
    bob = login(server.port, b"bob", b"b")
    bob.send(b"sentinel\n")
    alice.expect(wire.arrived(1) + b"server: client 1 is now bob\nbob: sentinel\n")
    assert mallory.readToEnd() == wire.LOGIN_FAILED
    waitFor(lambda: "sentinel" in server.logText(), "the log")
    log = server.logText()
    assert "login failed for" in log
    assert "SECRET" not in log and "qqq" not in log


@pytest.mark.live
def test_overlongPrivateMessage(startServer: StartServer) -> None:
    """
    A /msg longer than --max-line, in one write or in two with the server's
    refusal between them, is refused whole: the addressee and the others
    receive the sentinel line after it, and nothing before; the log has
    no byte of it.
    """
    server = startServer("--commands", "--max-line", "100")
    alice, bob, carol = server.connect(), server.connect(), server.connect()
    bob.send(b"/nick bob\n")
    for other in (alice, carol):
        other.expect(b"server: client 1 is now bob\n")
    private = b"/msg bob " + b"S" * 100 + b"-PRIVATE-TAIL"
    alice.send(private + b"\nsentinel\n")
    for other in (bob, carol):
        other.expect(b"client 0: sentinel\n")
    alice.expect(wire.LINE_TOO_LONG)
    alice.send(private[:150])
    alice.expect(wire.LINE_TOO_LONG)  # refused before the line has ended
    alice.send(private[150:] + b"\r\nsentinel 2\n")
    for other in (bob, carol):
        other.expect(b"client 0: sentinel 2\n")
    alice.send(b"/who\n")
    alice.expect(b"server: 3 clients: client 0, bob, client 2\n")
    waitFor(lambda: "sentinel 2" in server.logText(), "the log")
    log = server.logText()
    assert "PRIVATE" not in log and "SSS" not in log
    assert "[CMD] client 0 sent a command longer than the maximum line" in log


@pytest.mark.live
def test_longLinesStillCutWithoutCommands(startServer: StartServer) -> None:
    """Without --commands, a long line that begins with / is relayed in pieces."""
    server = startServer("--max-line", "100")
    alice, bob = server.connect(), server.connect()
    line = b"/msg bob " + b"S" * 100 + b"-TAIL"
    alice.send(line + b"\n")
    bob.expect(b"client 0: " + line[:100] + b"\nclient 0: " + line[100:] + b"\n")
