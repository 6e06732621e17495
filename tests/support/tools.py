"""
Helpers for the tests of the command-line tools: where their scripts are,
and a free port to start something on.
"""

from __future__ import annotations

import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.live import DEADLINE

BIN = Path(sys.executable).parent


def script(name: str) -> str:
    """The path of the console script C{name} of this environment."""
    return str(BIN / name)


def runTool(
    name: str, *arguments: str, **options: object
) -> subprocess.CompletedProcess[str]:
    """Run the console script C{name} to completion, capturing its output."""
    return subprocess.run(
        [script(name), *arguments],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        **options,  # type: ignore[call-overload]
    )


class WrongServer(socketserver.ThreadingTCPServer):
    """
    A chat server that gets the protocol wrong on purpose: it echoes every
    line to its sender too, forgets the leave notices, or drops every
    C{dropEvery}th line it should relay.
    """

    daemon_threads = True

    def __init__(
        self, echo: bool = False, announceLeaving: bool = True, dropEvery: int = 0
    ) -> None:
        super().__init__(("127.0.0.1", 0), WrongHandler)
        self.echo = echo
        self.announceLeaving = announceLeaving
        self.dropEvery = dropEvery
        self.relayed = 0
        self.lock = threading.RLock()
        self.clients: dict[int, socket.socket] = {}
        self.nextId = 0

    def broadcast(self, data: bytes, sender: int | None) -> None:
        with self.lock:
            for clientId, client in self.clients.items():
                if clientId != sender or self.echo:
                    client.sendall(data)


class WrongHandler(socketserver.StreamRequestHandler):
    server: WrongServer

    def handle(self) -> None:
        server = self.server
        with server.lock:  # so that everyone hears of everyone else
            clientId, server.nextId = server.nextId, server.nextId + 1
            server.broadcast(b"server: client %d just arrived\n" % clientId, clientId)
            server.clients[clientId] = self.request
        for line in self.rfile:
            with server.lock:
                server.relayed += 1
                dropped = server.dropEvery and server.relayed % server.dropEvery == 0
            if not dropped:
                server.broadcast(b"client %d: " % clientId + line, clientId)
        with server.lock:
            del server.clients[clientId]
        if server.announceLeaving:
            server.broadcast(b"server: client %d just left\n" % clientId, clientId)


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[None]:
    """Serve with C{server} in a thread for the duration of a C{with}."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
