"""
The log of a real server: what it writes of real clients, on disk.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.live import DEADLINE, TWISTD, Client, freePort, run, waitFor


@pytest.mark.live
def test_fullDiskSaidOnceAndServedOn(tmp_path: Path) -> None:
    """
    A log that cannot be written (a full disk) is said once on standard
    error, and the server serves on and stops cleanly, with no traceback.
    """
    server, sender, reader = _serverWithTwoClients(tmp_path, "--logfile", "/dev/full")
    try:
        # Several times what the log buffers: several writes fail.
        line = b"y" * 999 + b"\n"
        sender.send(line * 400)
        reader.expect((b"client 0: " + line) * 400)
        server.terminate()
        out, err = server.communicate(timeout=DEADLINE)
    finally:
        server.kill()
    assert server.returncode == 0
    assert err.decode() == (
        "twistd chat: cannot write the log '/dev/full': No space left on device;"
        " serving on, logging what the file takes\n"
    )
    assert b"Unhandled" not in out and b"Traceback" not in out


def _serverWithTwoClients(
    directory: Path, *arguments: str
) -> tuple[subprocess.Popen[bytes], Client, Client]:
    """
    C{twistd -n chat ARGUMENTS} on a free port, which it is given rather
    than asked to pick (its log may say nothing), and two clients of it.
    """
    port = freePort()
    server = subprocess.Popen(
        [TWISTD, "-n", "--pidfile=", "chat", "--port", str(port), *arguments],
        cwd=directory,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = waitFor(lambda: _connect(port), "the server to listen")
    second = Client(port)
    first.expect(b"server: client 1 just arrived\n")
    return server, first, second


def _connect(port: int) -> Client | None:
    try:
        return Client(port)
    except ConnectionRefusedError:
        return None


@pytest.mark.live
def test_unwritableLogRefusedAtStart(tmp_path: Path) -> None:
    """
    A log file in a directory that does not exist is refused at start with
    one line naming it, before listening, and nothing is written.
    """
    port = freePort()
    done = run("--port", str(port), "--logfile", "no/such/dir.log", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1,
        "twistd chat: error: --logfile: cannot write 'no/such/dir.log':"
        " no directory 'no/such'\n",
    )
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.live
def test_jsonLogOfARealServer(tmp_path: Path) -> None:
    """
    With C{--log-format json} every log line is a JSON event: relayed lines
    with their sender, recipients and escaped text, connections with their
    client and peer, and the stop last.
    """
    server, sender, reader = _serverWithTwoClients(tmp_path, "--log-format", "json")
    try:
        sender.send(b"one\n\x1b]0;two\x07\n")
        reader.expect(b"client 0: one\nclient 0: \x1b]0;two\x07\n")
        server.terminate()
        assert server.wait(DEADLINE) == 0
    finally:
        server.kill()
        server.communicate()
    lines = (tmp_path / "mini_serv.log").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    relayed = [
        (e["sender"], e["recipients"], e["text"]) for e in events if "sender" in e
    ]
    assert relayed == [(0, 1, "one"), (0, 1, "\\x1b]0;two\\x07")]
    [connected] = [e for e in events if "connected from" in e["text"]][1:]
    assert connected["category"] == "STATE" and connected["clientId"] == 1
    assert connected["text"] == f"client 1 connected from {connected['peer']}"
    assert events[-1]["text"] == "stopped"


@pytest.mark.live
def test_badLogFormat(tmp_path: Path) -> None:
    """
    A C{--log-format} that is neither text nor json is refused with one line
    saying which there are, and nothing is written.
    """
    done = run("--port", "0", "--log-format", "xml", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1,
        "twistd chat: error: --log-format: 'xml' is not one of text, json\n",
    )
    assert list(tmp_path.iterdir()) == []
