"""
C{mini_serv}'s start-up relay in memory: it accepts every waiting connection
before it reads, and logs its events as the server logs them.
"""

from __future__ import annotations

import socket
import time
from typing import cast

from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.testing import MemoryReactor
from twisted.logger import ILogObserver, LogEvent, Logger

from chat.app.service import AnnouncedEndpoint
from chat.core.addresses import describePeer
from chat.tools.miniserv.handover import replay
from chat.tools.miniserv.relay import StartupRelay
from chat.tools.miniserv.start import MAX_LINE
from tests.support.fakes import FakeRoom
from tests.support.floods import flood, relayedFrom
from tests.support.live import Client


def test_startupRelayAcceptsEveryWaitingConnectionFirst() -> None:
    """
    Three connections wait to be accepted, and the first has sent a flood
    already, when the start-up relay starts: it accepts and announces all
    three before it relays a line, so both others receive every line.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        clients = [Client(listener.getsockname()[1]) for _ in range(3)]
        lines = flood(2000)
        clients[0].send(lines)
        relay = StartupRelay(listener, MAX_LINE)
        relay.start(time.time())
        try:
            relayed = relayedFrom(0, lines)
            clients[1].expect(b"server: client 2 just arrived\n" + relayed)
            clients[2].expect(relayed)
            clients[0].expect(
                b"server: client 1 just arrived\nserver: client 2 just arrived\n"
            )
        finally:
            relay.stop()
            for client in relay.clients.values():
                client.socket.close()


def test_startupRelayEventsAreLoggedAsTheServerLogsThem() -> None:
    """
    What the start-up relay records (listening, two arrivals, a relay, a
    departure) the handover logs with the text, category, level and fields
    the server's own events have for the same story, each at the time the
    relay recorded.
    """
    fake = FakeRoom()
    endpoint = TCP4ServerEndpoint(MemoryReactor(), 8080, interface="127.0.0.1")
    AnnouncedEndpoint(endpoint, fake.room, "tcp:8080").listen(fake.room.door)
    sender, senderOut = fake.connect()
    _, otherOut = fake.connect()
    sender.dataReceived(b"a\nb\n")
    fake.disconnect(sender)
    [listened] = [event for event in fake.events if event["category"] == "start"]
    relayEvents = [
        (1.0, "listening", "tcp", listened["address"]),
        (2.0, "connected", 0, describePeer(senderOut)),
        (3.0, "connected", 1, describePeer(otherOut)),
        (4.0, "relayed", 0, [b"a", b"b"], 1),
        (5.0, "disconnected", 0, "connection closed cleanly"),
    ]
    replayed: list[LogEvent] = []
    replay(relayEvents, Logger(observer=cast(ILogObserver, replayed.append)))
    assert [logged(event) for event in replayed] == [
        logged(event) for event in fake.events
    ]
    assert [event["log_time"] for event in replayed] == [1.0, 2.0, 3.0, 4.0, 5.0]


def logged(event: LogEvent) -> dict[str, object]:
    """What the log writes of C{event}: its text, level and fields."""
    return {
        key: value
        for key, value in event.items()
        if key in ("log_format", "log_level") or not key.startswith("log_")
    }
