"""
Clients that ask and never read, through real sockets: what they are sent
is held against their SendQ as it is made, so they are cut off at their
limit, the server does not grow past it, and the others are not held up.
"""

from __future__ import annotations

import socket

import pytest

from tests.support.live import Client, Server, StartServer, waitFor

MiB = 1 << 20

CROWD = 100
"""Clients present, each with a 32-character nick: a C{/who} answer of 3.4 KB."""


def lazyClient(server: Server) -> Client:
    """A client of C{server} with a small receive buffer, which never reads."""
    lazy = Client(server.port)
    lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    return lazy


def lineStartingWith(client: Client, prefix: bytes) -> bytes:
    """
    The next whole line C{client} receives that begins with C{prefix}; the
    lines before it are passed over.
    """
    while True:
        while b"\n" not in client.buffer:
            chunk = client.sock.recv(1 << 20)
            assert chunk, f"connection closed; received {client.buffer[-200:]!r}"
            client.buffer += chunk
        line, _, client.buffer = client.buffer.partition(b"\n")
        if line.startswith(prefix):
            return line + b"\n"


def cutOff(server: Server) -> None:
    """Wait for the log to say that a client was cut off at its SendQ limit."""
    waitFor(
        lambda: "cut off: SendQ exceeded" in server.logText(),
        "the log to say that the lazy client was cut off",
    )


@pytest.mark.live
def test_whoFloodOfALazyReaderIsCutAtItsLimit(startServer: StartServer) -> None:
    """
    With a hundred named clients present, a client that never reads sends
    52 000 C{/who} (some 180 MB of answers) against a 4 MiB SendQ: it is cut
    off, the server grows by less than 20 MiB on the way (it held about 45 MB
    a read of answers before they were checked), and a line said after it
    reaches the others.
    """
    server = startServer("--commands", "--sendq", "4M")
    crowd = [Client(server.port) for _ in range(CROWD)]
    for number, client in enumerate(crowd):
        client.send(b"/nick %02d" % number + b"n" * 30 + b"\n")
    watcher = Client(server.port)
    while True:  # until every nick is taken
        watcher.send(b"/who\n")
        answer = lineStartingWith(watcher, b"server: %d clients: " % (CROWD + 1))
        if answer.count(b"n" * 30) == CROWD:
            break
    before = server.peakMemory()
    lazy = lazyClient(server)
    lazy.send(b"/who\n" * (4 * 65536 // 5))
    cutOff(server)
    crowd[0].send(b"sentinel\n")
    lineStartingWith(watcher, b"00" + b"n" * 30 + b": sentinel")
    assert server.peakMemory() - before < 20 * MiB


@pytest.mark.live
def test_historyOfLazyNewcomersIsShared(startServer: StartServer) -> None:
    """
    With 16 MB of history, more than the kernel takes on a connection, 30
    newcomers that never read cost the server less than 60 MiB together
    (some 360 MB when each was sent a copy of its own), and a line said
    after them reaches a reader.
    """
    server = startServer("--history", "10000", "--sendq", "64M", "--sendq-soft", "32M")
    speaker = Client(server.port)
    observer = Client(server.port)
    line = b"x" * 1600 + b"\n"
    for _ in range(10):
        speaker.send(line * 1000)
    speaker.send(b"said\n")
    lineStartingWith(observer, b"client 0: said")
    reader = Client(server.port)
    assert lineStartingWith(reader, b"server: last ") == b"server: last 10000 lines\n"
    lineStartingWith(reader, b"server: end of history")
    before = server.peakMemory()
    lazy = [lazyClient(server) for _ in range(30)]
    speaker.send(b"sentinel\n")
    lineStartingWith(reader, b"client 0: sentinel")
    assert server.peakMemory() - before < 60 * MiB, (before, server.peakMemory())
    for client in lazy:
        client.close()
