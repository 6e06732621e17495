"""
C{mini_serv PORT}, its server held back until a file exists: run as
C{python tests/miniserv_gated.py GATE PORT}.

Until C{GATE} exists, importing the server (the handover module) waits, so
only the start-up relay serves: tests can then check what it does, and
what the handover keeps, in an order of their choosing rather than by
timing.

Until the room offers C{ChatRoom.adopt} and C{LocalPeers(firstId)} and
C{makeService} takes C{peers}, this also stands in for them, here only.
"""

from __future__ import annotations

import importlib
import importlib.abc
import inspect
import os
import sys
import time
import types
from itertools import count
from typing import Any

HANDOVER = "chat.tools.miniserv.handover"


class Gate(importlib.abc.MetaPathFinder):
    def __init__(self, path: str) -> None:
        self.path = path

    def find_spec(self, name: str, *rest: Any) -> None:
        if name == HANDOVER:
            while not os.path.exists(self.path):
                time.sleep(0.002)
            standIn()
        return None


def standIn() -> None:
    """The room's handover API, for as long as the room does not have it."""
    import chat.tap
    from chat.protocol import ChatProtocol
    from chat.room import ChatRoom

    try:
        importlib.import_module("chat.peers")
    except ImportError:
        peers = types.ModuleType("chat.peers")

        class LocalPeers:
            def __init__(self, firstId: int = 0) -> None:
                self.firstId = firstId

        peers.LocalPeers = LocalPeers  # type: ignore[attr-defined]
        sys.modules["chat.peers"] = peers
    if "peers" not in inspect.signature(chat.tap.makeService).parameters:
        original = chat.tap.makeService

        def makeService(config: Any, reactor: Any = None, peers: Any = None) -> Any:
            service = original(config, reactor)
            service.room._ids = count(peers.firstId)
            return service

        setattr(chat.tap, "makeService", makeService)  # noqa: B010 (a stand-in)
    if not hasattr(ChatRoom, "adopt"):
        from twisted.internet.protocol import Factory

        from chat.outbox import directSocket

        def adopt(room: Any, clientId: int, unread: bytes, unsent: bytes) -> Any:
            class Adopted(ChatProtocol):
                def connectionMade(self) -> None:
                    transport: Any = self.transport
                    self._socket = directSocket(transport)
                    room.clients[clientId] = self
                    room._perAddress[transport.getPeer().host] += 1
                    if unsent:
                        self.deliver(unsent)
                    if unread:
                        self.dataReceived(unread)

            class Adopting(Factory):
                def buildProtocol(self, addr: Any) -> Adopted:
                    client = Adopted(room, clientId, room.maxLine, room._clock)
                    client.factory = room
                    return client

            return Adopting()

        ChatRoom.adopt = adopt  # type: ignore[attr-defined]


if __name__ == "__main__":
    gate, *arguments = sys.argv[1:]
    sys.meta_path.insert(0, Gate(gate))
    sys.argv = ["mini_serv", *arguments]
    from chat.tools.miniserv.start import main

    main()
