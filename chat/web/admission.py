"""
The connections of the web sites (L{WebFactory}), from their accept, before
HTTP is read: each has L{REQUEST_TIMEOUT} for its request, and each of the
web door's holds a place in the room.

A browser's connection counts against C{--max-clients} and C{--max-per-ip}
from its accept, as a TCP client's does, and not once it has sent a
request: handshakes that are never finished hold places, not file
descriptors beyond the limits.  One the room has no place for is told why
in an HTTP answer (C{503}) and closed at once.  A connection that opens the
WebSocket becomes the room's client in the place it holds.

A connection that has not opened the WebSocket L{REQUEST_TIMEOUT} after
its accept is closed, however slowly its request came (a timeout that
starts again with every byte, as Twisted Web's does, would let a request
dripped a byte at a time go on for ever): its page is served by then.
"""

from __future__ import annotations

from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IProtocolFactory,
    IReactorTime,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure

from chat.core.admission import Place, Refusal
from chat.core.room import ChatRoom
from chat.tcp.door import clientIn
from chat.tcp.protocol import ChatProtocol
from chat.web.requests import SERVER

REQUEST_TIMEOUT = 10.0
"""Seconds from a connection's accept within which its request is done."""


class WebConnection(ProtocolWrapper):
    """
    A web site's connection: closed if it is still HTTP (no WebSocket)
    L{REQUEST_TIMEOUT} after it was accepted; the web door's holds its
    C{place} in the room until it closes.
    """

    factory: WebFactory
    place: Place | None = None
    _deadline: IDelayedCall | None = None

    def connectionMade(self) -> None:
        factory = self.factory
        self._deadline = factory.clock.callLater(factory.timeout, self._late)
        super().connectionMade()

    def _late(self) -> None:
        self._deadline = None
        self.transport.abortConnection()  # type: ignore[union-attr]

    def upgrade(self, protocol: Protocol) -> None:
        """
        C{protocol} (a WebSocket) has the connection from now on, the
        network's transport itself; this wrapper stays beneath it, for
        the connection's place.
        """
        self.wrappedProtocol = protocol
        protocol.makeConnection(self.transport)

    def enter(self) -> ChatProtocol:
        """
        The room's client of this connection, in its place: it has opened
        the WebSocket, and has no deadline any more.
        """
        self._endDeadline()
        room, place = self.factory.room, self.place
        if room is None or place is None:
            raise TypeError("a connection of a site that is not the web door")
        return clientIn(room, place, self.factory.clock)

    def _endDeadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def dataReceived(self, data: bytes) -> None:
        """
        What arrives once the connection is closing is not read: a plain
        TCP connection stops reading then, one over TLS would not.
        """
        if not self.disconnecting:
            super().dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._endDeadline()
        super().connectionLost(reason)
        if self.factory.room is not None and self.place is not None:
            self.factory.room.admission.release(self.place)


class WebFactory(WrappingFactory[WebConnection]):
    """
    Wraps a web site: its connections have L{REQUEST_TIMEOUT}.  With a
    C{room}, it is the web door: a connection is given a place in the room
    as it is accepted, or is told why not and closed.
    """

    protocol = WebConnection

    def __init__(
        self,
        site: IProtocolFactory,
        clock: IReactorTime,
        room: ChatRoom | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        super().__init__(site)
        self.clock = clock
        self.room = room
        self.timeout = timeout

    def buildProtocol(self, addr: IAddress | None) -> WebConnection:
        if self.room is None:
            return super().buildProtocol(addr)
        place = self.room.admission.arrive(addr)
        if isinstance(place, Refusal):
            return WebConnection(self, Unavailable(place.notice))
        connection = super().buildProtocol(addr)
        connection.place = place
        return connection


class Unavailable(Protocol):
    """A connection the room has no place for: C{503}, and closed."""

    def __init__(self, notice: bytes) -> None:
        self._notice = notice

    def connectionMade(self) -> None:
        self.transport.write(  # type: ignore[union-attr]
            b"HTTP/1.1 503 Service Unavailable\r\n"
            b"Server: " + SERVER + b"\r\n"
            b"Connection: close\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n" % len(self._notice) + self._notice
        )
        self.transport.loseConnection()  # type: ignore[union-attr]
