"""
The handover from the start-up relay to the server of C{twistd -n chat}:
the same service, built by L{chat.app.tap.makeService}, with the SendQ limits
off, the relay's listening socket, and its clients with their ids,
unfinished input and unsent output.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.application.internet import StreamServerEndpointService
from twisted.internet import reactor
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.logger import ILogObserver, LogEvent, Logger
from twisted.python import usage
from zope.interface import implementer

from chat.app.options import Options
from chat.app.tap import makeService
from chat.core import events, wire
from chat.core.peers import LocalPeers
from chat.tools.miniserv.relay import Client, StartupRelay, completeLines

if TYPE_CHECKING:
    from chat.core.room import ChatRoom

OPTIONS = ["--sendq", "0"]
"""What C{mini_serv} adds to C{twistd chat}'s defaults: a client that does not
read is never cut off (the exam's rule)."""


def serve(relay: StartupRelay, logFile: str) -> None:
    """
    Take over from C{relay} and serve until SIGINT or SIGTERM.
    """
    config = Options()
    try:
        config.parse(["--logfile", logFile, *OPTIONS])
    except usage.UsageError:  # the log file went away meanwhile
        sys.stderr.write("Fatal error\n")
        raise SystemExit(1) from None
    config["endpoints"] = []  # it listens on the relay's socket instead
    relay.stop()
    service = makeService(config, reactor, peers=LocalPeers(firstId=relay.nextId))
    room = service.room
    listener = relay.listener.detach()  # the endpoint closes it once adopted
    endpoint = AdoptedStreamServerEndpoint(reactor, listener, socket.AF_INET)
    StreamServerEndpointService(endpoint, room.door).setServiceParent(service)
    try:
        service.openLog()
    except OSError:  # the log went away meanwhile
        sys.stderr.write("Fatal error\n")
        raise SystemExit(1) from None
    replay(relay.events, room.log)
    service.privilegedStartService()
    service.startService()
    handOver(relay, room, reactor)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()


def handOver(relay: StartupRelay, room: ChatRoom, reactor: Any) -> None:
    """
    Give the clients of C{relay} to C{room}: each keeps its id, its
    unfinished line and the output it has not been sent yet.  One whose
    connection is gone already (reset since the relay stopped) cannot be
    taken over: it leaves, as it would have from the relay, once the others
    are in the room.
    """
    gone: list[tuple[Client, str]] = []
    for client in relay.clients.values():
        factory = room.lobby.adopt(client.clientId, client.unread, bytes(client.unsent))
        try:
            reactor.adoptStreamConnection(
                client.socket.fileno(), socket.AF_INET, factory
            )
        except OSError as failed:
            gone.append((client, failed.strerror or "connection lost"))
        client.socket.close()  # the reactor has a duplicate of its own
    room.log.info(
        "handover: {count} clients from the start-up relay, next id {nextId}",
        category="start",
        count=len(relay.clients) - len(gone),
        nextId=relay.nextId,
    )
    for client, why in gone:
        leave(client, why, room, relay.maxLine)


def leave(client: Client, why: str, room: ChatRoom, maxLine: int) -> None:
    """
    C{client} of the start-up relay left before the server could take it:
    its partial line is relayed to the room, then its departure.
    """
    if client.unread:
        lines = completeLines(client, b"\n", maxLine)
        room.deliverRemote(client.frame(lines))
        events.relayed(room.log, client.clientId, lines, len(room.clients))
    events.disconnected(room.log, client.clientId, why)
    room.deliverRemote(wire.left(client.clientId))


def replay(relayEvents: list[tuple[Any, ...]], log: Logger) -> None:
    """
    Log what the start-up relay did (L{StartupRelay.events}) as the server
    logs it, each event with the time it happened.
    """
    stamp = _Stamp(log.observer)
    past = Logger(namespace=log.namespace, source=log.source, observer=stamp)
    for when, kind, *details in relayEvents:
        stamp.when = when
        _EVENTS[kind](past, *details)


_EVENTS: dict[str, Callable[..., None]] = {
    "listening": events.listening,
    "connected": events.connected,
    "relayed": events.relayed,
    "disconnected": events.disconnected,
}
"""How each kind of L{StartupRelay.events} is logged."""


@implementer(ILogObserver)
class _Stamp:
    """Passes events on to C{observer} as having happened at C{when}."""

    def __init__(self, observer: ILogObserver) -> None:
        self.observer = observer
        self.when = 0.0

    def __call__(self, event: LogEvent) -> None:
        event["log_time"] = self.when
        self.observer(event)
