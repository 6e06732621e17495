"""
The HTTP of the web door: one request a connection, its head read with
h11 (sans-IO), answered and the connection closed; or, at C{/ws}, the
WebSocket opened with wsproto's handshake and the connection handed to a
L{chat.web.socket.RoomSocket}.

A request that has a body (a C{Content-Length} above 0, or chunked) is
answered C{413} as soon as its headers are in, and its connection closed:
no byte of the body is read.  A request for another host (its C{Host}) is
forbidden (C{403}), and so is a WebSocket of a page of an origin not
allowed.  Every answer says C{Server: chat}, and neither the software
underneath nor its version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import h11
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.protocol import Protocol
from wsproto.connection import ConnectionType
from wsproto.events import AcceptConnection, RejectConnection
from wsproto.events import Request as SocketRequest
from wsproto.handshake import H11Handshake
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from chat.core.addresses import describePeer
from chat.web.admission import WebConnection
from chat.web.messages import SUBPROTOCOL, TurnedAwayError, sinceOf
from chat.web.requests import SERVER, TOO_LARGE

if TYPE_CHECKING:
    from chat.web.site import WebSite

REASONS = {
    200: b"OK",
    400: b"Bad Request",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    426: b"Upgrade Required",
    431: b"Request Header Fields Too Large",
}
"""The reason phrases of the answers the door gives."""

Headers = Sequence[tuple[bytes, bytes]]


def answer(
    status: int, headers: Headers = (), body: bytes = b"", bodyless: bool = False
) -> bytes:
    """
    The whole answer C{status} with C{headers} and C{body}, which closes
    the connection; without its body for a C{HEAD} (C{bodyless}).
    """
    lines = [
        b"HTTP/1.1 %d %s" % (status, REASONS.get(status, b"Error")),
        b"Server: " + SERVER,
        b"Connection: close",
        *(name + b": " + value for name, value in headers),
        b"Content-Length: %d" % len(body),
    ]
    return b"\r\n".join([*lines, b"", b""]) + (b"" if bodyless else body)


def refusal(status: int, why: str, headers: Headers = ()) -> bytes:
    """The answer C{status}, which says C{why} in plain text."""
    text = [(b"Content-Type", b"text/plain; charset=utf-8")]
    return answer(status, [*text, *headers], why.encode() + b"\n")


def header(request: h11.Request, name: bytes) -> list[bytes]:
    """The values of the header C{name} (lower case) of C{request}."""
    return [value for key, value in request.headers if key == name]


class DoorRequest(Protocol):
    """
    The request of a connection through the web door (the transport is
    its L{WebConnection}): read until its head is in, then answered, or
    upgraded to the WebSocket.  Nothing of it is kept once it is served.
    """

    factory: WebSite

    def __init__(self) -> None:
        self._parser: h11.Connection | None = h11.Connection(h11.SERVER)

    def dataReceived(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            return  # answered: what else comes is not read
        try:
            parser.receive_data(data)
            event = parser.next_event()
        except h11.RemoteProtocolError as error:
            self._parser = None
            self._answer(refusal(error.error_status_hint, "bad request"))
            return
        if isinstance(event, h11.Request):
            self._parser = None
            self._serve(event, parser.trailing_data[0])
        elif event is not h11.NEED_DATA:
            self._parser = None
            self._answer(refusal(400, "bad request"))

    def _answer(self, data: bytes) -> None:
        """Send C{data}, a whole answer, and close the connection after it."""
        self.transport.write(data)  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]

    def _serve(self, request: h11.Request, rest: bytes) -> None:
        """
        Answer C{request}, whose head is all in; C{rest} came behind it (a
        WebSocket's first frames).
        """
        site = self.factory
        chunked = header(request, b"transfer-encoding")
        if chunked or any(int(size) for size in header(request, b"content-length")):
            self._answer(TOO_LARGE)
            return
        hosts = header(request, b"host") or None
        if not site.hosts.allows(hosts, self.transport.getHost()):  # type: ignore[union-attr]
            self._answer(refusal(403, "This server does not serve that host."))
            return
        path, _, query = request.target.partition(b"?")
        if path == b"/":
            if request.method in (b"GET", b"HEAD"):
                self._answer(site.page.answer(bodyless=request.method == b"HEAD"))
            else:
                self._answer(
                    refusal(405, "GET and HEAD only", [(b"Allow", b"GET, HEAD")])
                )
        elif path == b"/ws":
            if request.method == b"GET":
                self._upgrade(request, query, rest)
            else:
                self._answer(refusal(405, "GET only", [(b"Allow", b"GET")]))
        else:
            self._answer(refusal(404, "No such page."))

    def _upgrade(self, request: h11.Request, query: bytes, rest: bytes) -> None:
        """
        Open the WebSocket C{request} asks for with wsproto's handshake, if
        it is one and its origin is allowed, and hand it the connection.
        """
        door = self.transport
        if not isinstance(door, WebConnection):
            raise TypeError("the WebSocket is served through the web door only")
        if [value.lower() for value in header(request, b"upgrade")] != [b"websocket"]:
            upgrade = [(b"Upgrade", b"websocket"), (b"Sec-WebSocket-Version", b"13")]
            self._answer(refusal(426, "This is a WebSocket.", upgrade))
            return
        handshake = H11Handshake(ConnectionType.SERVER)
        try:
            handshake.initiate_upgrade_connection(list(request.headers), request.target)
        except (RemoteProtocolError, LocalProtocolError, UnicodeError) as error:
            hint = getattr(error, "event_hint", None)
            if isinstance(hint, RejectConnection):
                self._answer(refusal(hint.status_code, str(error), hint.headers))
            else:
                self._answer(refusal(400, "not a WebSocket request"))
            return
        opening = next(handshake.events())
        assert isinstance(opening, SocketRequest)
        sockets = self.factory.sockets
        network = door.transport
        origin = header(request, b"origin")
        page = origin[0].decode("latin-1") if origin else None
        secure = ISSLTransport.providedBy(network)
        host = header(request, b"host")[0].decode("latin-1")
        if not sockets.origins.allows(page, host, secure):
            sockets.log.warn(
                "turned away {peer} (web): origin {origin!r} is not allowed",
                category="STATE",
                peer=describePeer(network),
                origin=page,
            )
            self._answer(refusal(403, "origin not allowed"))
            return
        room = door.factory.room
        messages = room.messages if room is not None else None
        speaks = None
        if messages is not None and SUBPROTOCOL in opening.subprotocols:
            params = parse_qs(query.decode("latin-1"))
            try:
                speaks = messages, sinceOf(params, sockets.log, network)
            except TurnedAwayError as refused:
                self._answer(refusal(refused.status, refused.why))
                return
        accept = AcceptConnection(
            subprotocol=SUBPROTOCOL if speaks is not None else None,
            extra_headers=[(b"Server", SERVER)],
        )
        socket = sockets.buildProtocol(door)
        door.upgrade(socket)
        socket.open(handshake.send(accept), speaks)
        # What came behind the request (frames of a client that did not
        # wait for the answer) follows it.
        if rest:
            socket.dataReceived(rest)
