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


def aliceAndBob(tmp_path: Path) -> Path:
    """A password file in C{tmp_path} with the accounts alice and bob."""
    path = tmp_path / "users"
    chatPasswd(path, "alice", "wonderland")
    chatPasswd(path, "bob", "builder")
    return path


def aliceThenBob(alicePort: int, bobPort: int) -> tuple[Client, Client]:
    """Alice logged in on the server at C{alicePort}, then bob at C{bobPort}."""
    alice = login(alicePort, b"alice", b"wonderland")
    alice.send(b"/who\n")  # in, before bob's login is checked
    alice.expect(b"server: 1 client: alice\n")
    bob = login(bobPort, b"bob", b"builder")
    alice.expect(wire.arrived(1) + b"server: client 1 is now bob\n")
    return alice, bob


def twoSessionsAreOnePerson(laptop: Client, bob: Client, phone: Client) -> None:
    """
    With alice on her C{laptop} and bob in the room, alice's C{phone} has
    just logged in: bob is told nothing of it, sees her lines from either
    session as hers, and is told she left only when her last session goes;
    her sessions see each other's lines, /who lists her once, and both
    receive a private message to her.
    """
    phone.send(b"/who\nfrom the phone\n")
    phone.expect(b"server: 2 clients: alice, bob\n")
    bob.expect(b"alice: from the phone\n")  # nothing came before it
    laptop.expect(b"alice: from the phone\n")
    laptop.send(b"from the laptop\n")
    bob.expect(b"alice: from the laptop\n")
    phone.expect(b"alice: from the laptop\n")
    bob.send(b"/msg alice psst\n/who\n")
    bob.expect(b"server: 2 clients: alice, bob\n")
    laptop.expect(b"bob (private): psst\n")
    phone.expect(b"bob (private): psst\n")
    laptop.send(b"/quit battery low\n")
    assert laptop.readToEnd() == b""
    phone.send(b"still here\n")
    bob.expect(b"alice: still here\n")  # no leave notice before it
    phone.close()
    bob.expect(b"server: alice just left\n")
    bob.send(b"/who\n")
    bob.expect(b"server: 1 client: bob\n")
