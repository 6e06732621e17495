"""
The handover from the start-up relay to the server of C{twistd -n chat}:
the same service, built by L{chat.tap.makeService}, with the SendQ limits
off, the relay's listening socket, and its clients with their ids,
unfinished input and unsent output.
"""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING, Any

from twisted.application.internet import StreamServerEndpointService
from twisted.internet import reactor
from twisted.internet.defer import succeed
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.logger import ILogObserver, LogEvent, Logger
from twisted.python import usage
from zope.interface import implementer

from chat.peers import LocalPeers
from chat.service import logListening
from chat.tap import Options, makeService
from chat.tools.miniserv.relay import StartupRelay

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IListeningPort, IProtocolFactory

    from chat.room import ChatRoom

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
    endpoint = AdoptingEndpoint(relay.listener, reactor)
    StreamServerEndpointService(endpoint, room).setServiceParent(service)
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
    unfinished line and the output it has not been sent yet.
    """
    for client in relay.clients.values():
        factory = room.adopt(client.clientId, client.unread, bytes(client.unsent))
        reactor.adoptStreamConnection(client.socket.fileno(), socket.AF_INET, factory)
        client.socket.close()  # the reactor has a duplicate of its own
    room.log.info(
        "handover: {count} clients from the start-up relay, next id {nextId}",
        category="start",
        count=len(relay.clients),
        nextId=relay.nextId,
    )


def replay(events: list[tuple[Any, ...]], log: Logger) -> None:
    """
    Log what the start-up relay did (L{StartupRelay.events}) as the server
    logs it, each event with the time it happened.
    """
    stamp = _Stamp(log.observer)
    past = Logger(namespace=log.namespace, source=log.source, observer=stamp)
    for when, kind, subject, *details in events:
        stamp.when = when
        if kind == "listening":
            logListening(past, "tcp", subject)
        elif kind == "connected":
            past.info(
                "client {clientId} connected from {peer}",
                category="STATE",
                clientId=subject.clientId,
                peer=subject.peer,
            )
        elif kind == "relayed":
            lines, recipients = details
            past.info(
                "client {sender} sent {count} lines to {recipients} clients",
                category="RX",
                sender=subject.clientId,
                count=len(lines),
                recipients=recipients,
                relayedLines=lines,
            )
        else:
            past.info(
                "client {clientId} disconnected ({why})",
                category="STATE",
                clientId=subject.clientId,
                why=details[0],
            )


@implementer(ILogObserver)
class _Stamp:
    """Passes events on to C{observer} as having happened at C{when}."""

    def __init__(self, observer: ILogObserver) -> None:
        self.observer = observer
        self.when = 0.0

    def __call__(self, event: LogEvent) -> None:
        event["log_time"] = self.when
        self.observer(event)


@implementer(IStreamServerEndpoint)
class AdoptingEndpoint:
    """An endpoint that listens on C{listener}, bound and listening already."""

    def __init__(self, listener: Any, reactor: Any) -> None:
        self.listener = listener
        self.reactor = reactor

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        listener = self.listener
        listener.setblocking(False)  # as the reactor requires
        port = self.reactor.adoptStreamPort(listener.fileno(), socket.AF_INET, factory)
        listener.close()  # the port has a duplicate of its own
        return succeed(port)
