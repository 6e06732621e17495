"""
Accounts for the live tests: a password file written with chat-passwd, and
a client logged in through it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chat.core import wire
from tests.support.live import DEADLINE, Client

PASSWD = str(Path(sys.executable).with_name("chat-passwd"))
"""The project's password tool, installed beside this Python."""


def chatPasswd(
    path: Path, name: str, password: str, cost: int = 4
) -> subprocess.CompletedProcess[str]:
    """Set C{name}'s password in the file at C{path} with chat-passwd."""
    return subprocess.run(
        [PASSWD, "--cost", str(cost), str(path), name],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )


def prompted(port: int) -> Client:
    """A new connection to the server at C{port}, told at once how to log in."""
    client = Client(port)
    client.expect(wire.LOGIN_PROMPT)
    return client


def login(port: int, name: bytes, password: bytes) -> Client:
    """A client of the server at C{port}, logged in as C{name}."""
    client = prompted(port)
    client.send(b"/login " + name + b" " + password + b"\n")
    return client
