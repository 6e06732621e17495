"""
Accounts (C{--auth}) with a real server: the login prompt at every door,
and two telnet-like sessions of one account, with a third client watching,
and a WebSocket session of the same account.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.core import wire
from tests.support.accounts import (
    aliceAndBob,
    aliceThenBob,
    login,
    twoSessionsAreOnePerson,
)
from tests.support.live import Client, StartServer
from tests.support.webclient import WEB, WebClient, webPort


@pytest.mark.live
def test_twoTelnetSessionsOfOneAccount(
    startServer: StartServer, tmp_path: Path
) -> None:
    """
    Alice logs in twice over TCP with bob in the room: bob is told of her
    once, sees her lines from either session as hers, and is told she left
    only when her last session goes; her sessions see each other's lines,
    and both receive a private message to her.
    """
    server = startServer("--auth", str(aliceAndBob(tmp_path)))
    laptop, bob = aliceThenBob(server.port, server.port)
    phone = login(server.port, b"alice", b"wonderland")
    twoSessionsAreOnePerson(laptop, bob, phone)


@pytest.mark.live
def test_webSocketSessionOfAnAccount(startServer: StartServer, tmp_path: Path) -> None:
    """
    A plain WebSocket is told how to log in at once, as a TCP connection
    is; logged in as alice, who is on TCP already, it is her second
    session: its welcome names the two people, not three sessions, bob is
    told nothing, and its lines are hers for both.
    """
    server = startServer(*WEB, "--auth", str(aliceAndBob(tmp_path)))
    alice = login(server.port, b"alice", b"wonderland")
    alice.send(b"/who\n")  # in, before bob's login is checked
    alice.expect(b"server: 1 client: alice\n")
    bob = login(server.port, b"bob", b"builder")
    alice.expect(wire.arrived(1) + b"server: client 1 is now bob\n")
    web = WebClient(webPort(server))
    web.expect(wire.LOGIN_PROMPT)
    web.send("/login alice wonderland")
    web.expect(b"server: you are client 2\nserver: 2 clients: alice, bob\n")
    web.send("/who")
    web.expect(b"server: 2 clients: alice, bob\n")
    web.send("from the browser")
    bob.expect(b"alice: from the browser\n")
    alice.expect(b"alice: from the browser\n")
    web.close()
    alice.send(b"sentinel\n")
    bob.expect(b"alice: sentinel\n")


@pytest.mark.live
def test_promptBeforeAnything(startServer: StartServer, tmp_path: Path) -> None:
    """A new TCP connection is told how to log in before it sends a byte."""
    server = startServer("--auth", str(aliceAndBob(tmp_path)))
    silent = Client(server.port)
    silent.expect(wire.LOGIN_PROMPT)


def readThrough(client: Client, end: bytes) -> bytes:
    """What C{client} receives up to and including C{end}."""
    while end not in client.buffer:
        chunk = client.sock.recv(1 << 16)
        assert chunk, f"closed before {end!r}: {client.buffer!r}"
        client.buffer += chunk
    at = client.buffer.index(end) + len(end)
    got, client.buffer = client.buffer[:at], client.buffer[at:]
    return got


@pytest.mark.live
def test_parallelLoginsOfOneAccount(startServer: StartServer, tmp_path: Path) -> None:
    """
    Two logins of alice sent at once, checked side by side in threads: bob
    is told of one arrival and one name, then of nothing but her lines.
    """
    server = startServer("--auth", str(aliceAndBob(tmp_path)))
    bob = login(server.port, b"bob", b"builder")
    bob.send(b"/who\n")
    bob.expect(b"server: 1 client: bob\n")
    one, two = Client(server.port), Client(server.port)
    for each in (one, two):
        each.expect(wire.LOGIN_PROMPT)
    one.send(b"/login alice wonderland\n/who\n")
    two.send(b"/login alice wonderland\n/who\n")
    for each in (one, two):
        each.expect(b"server: 2 clients: bob, alice\n")
    one.send(b"one\n")
    got = readThrough(bob, b"alice: one\n")
    assert got in [
        wire.arrived(n) + b"server: client %d is now alice\nalice: one\n" % n
        for n in (1, 2)
    ], got
    two.send(b"two\n")
    bob.expect(b"alice: two\n")
