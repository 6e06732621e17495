"""
The options of C{twistd chat} as the real command reads them: errors in
one line and a non-zero exit.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.live import freePort, run


@pytest.mark.live
@pytest.mark.parametrize(
    ("arguments", "needed"),
    [
        (("--room", "lobby"), "--redis"),
        (("--login-timeout", "5"), "--auth"),
        (("--auth-plaintext",), "--auth"),
        (("--web-origin", "https://chat.example.org"), "--web"),
    ],
)
def test_optionWithoutWhatItNeedsExits1(
    tmp_path: Path, arguments: tuple[str, ...], needed: str
) -> None:
    """The server does not start: status 1 and one line naming both."""
    done = run("--port", "0", *arguments, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"twistd chat: error: {arguments[0]}: has no effect without {needed}\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.live
@pytest.mark.parametrize(
    "bad",
    [
        "tcp:99999",
        "unix:",
        "unix:/nonexistent/dir/sock",
    ],
)
def test_badListenListensNowhere(tmp_path: Path, bad: str) -> None:
    """
    A bad C{--listen} beside a good one: one line naming it, status 1, and
    the good one never listened (no log file was even created).
    """
    port = freePort()
    done = run(
        "--listen", f"tcp:{port}:interface=127.0.0.1", "--listen", bad, cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"twistd chat: error: --listen: '{bad}'"), done.stderr
    assert done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port)).close()
