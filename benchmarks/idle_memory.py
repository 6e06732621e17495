"""
What an idle connection holds: the server's own objects, as C{tracemalloc}
counts them, for N idle TCP (or WebSocket) clients that have read every
arrival notice, grouped by the line that allocated them, and the total per
connection.

Run from the repository root with the environment's Python, e.g.
C{.venv/bin/python benchmarks/idle_memory.py --clients 2000} (C{--web} for
WebSockets).

The server runs in this process, as C{twistd chat} makes it, on the real
reactor; the clients are plain sockets in a process of their own (this
script with C{--connect}) that read everything they are sent.  The Python
objects counted here are most of what C{compare}'s C{idle10k} measures per
connection in the resident set; the allocator's slack is the rest.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import tracemalloc

from twisted.internet import reactor
from twisted.internet.task import deferLater

from chat.app.tap import Options, makeService

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
"""A browser's upgrade request, without an Origin (as a program sends it)."""

QUIET = 2.0
"""Seconds without a byte for anyone after which every client has it all."""


def idleClients(port: int, count: int, web: bool) -> None:
    """
    Connect C{count} clients (WebSockets if C{web}), read until nothing
    more comes, say so on standard output and hold them until standard
    input ends.
    """
    clients = []
    selector = selectors.DefaultSelector()
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port))
        if web:
            client.sendall(UPGRADE)
        client.setblocking(False)
        clients.append(client)
        selector.register(client, selectors.EVENT_READ)
    while ready := selector.select(timeout=QUIET):
        for key, _ in ready:
            key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
    print("ready", flush=True)
    sys.stdin.read()
    for client in clients:
        client.close()


async def measure(count: int, top: int, web: bool) -> None:
    numbers = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            numbers.append(probe.getsockname()[1])
    number, webNumber = numbers
    config = Options()
    config.parseOptions(
        ["--port", str(number), "--log-level", "warn"]
        + (["--web", f"tcp:{webNumber}"] if web else [])
    )
    service = makeService(config, reactor)
    service.privilegedStartService()
    service.startService()
    await deferLater(reactor, 0.2, lambda: None)
    before = tracemalloc.take_snapshot()
    clients = subprocess.Popen(
        [sys.executable, __file__, "--connect", str(webNumber if web else number)]
        + ["--clients", str(count)]
        + (["--web"] if web else []),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    ready = threading.Event()
    output = clients.stdout
    assert output is not None

    def waitReady() -> None:
        output.readline()
        ready.set()

    threading.Thread(target=waitReady, daemon=True).start()
    while not ready.is_set():
        await deferLater(reactor, 0.2, lambda: None)
    await deferLater(reactor, 0.5, lambda: None)
    after = tracemalloc.take_snapshot()
    ignored = (
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, threading.__file__),
        tracemalloc.Filter(False, subprocess.__file__),
        tracemalloc.Filter(False, __file__),
    )
    stats = after.filter_traces(ignored).compare_to(
        before.filter_traces(ignored), "lineno"
    )
    total = sum(stat.size_diff for stat in stats)
    kind = "WebSocket" if web else "TCP"
    print(f"{count} idle {kind} clients: {total / count:.0f} B each in Python")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        print(
            f"{stat.size_diff / count:8.1f} B {stat.count_diff / count:5.2f} blocks"
            f"  {frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
        )
    clients.communicate(b"")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--web", action="store_true", help="WebSocket clients")
    parser.add_argument("--connect", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.connect:
        idleClients(arguments.connect, arguments.clients, arguments.web)
        return
    os.chdir(tempfile.mkdtemp())
    tracemalloc.start()

    def run() -> None:
        done = measure(arguments.clients, arguments.top, arguments.web)
        from twisted.internet.defer import Deferred

        Deferred.fromCoroutine(done).addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(run)
    reactor.run()


if __name__ == "__main__":
    main()
