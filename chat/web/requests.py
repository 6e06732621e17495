"""
What the metrics site (C{--metrics}, on C{twisted.web}) takes of HTTP: one
request a connection, without a body, answered under the name C{chat}
alone.  The web door (C{--web}) reads its requests itself, the same way
(L{chat.web.http}).

A request that has a body (a C{Content-Length} above 0, or chunked) is
answered C{413} as soon as its headers are in, and its connection closed:
no byte of the body is read, nothing is written to disk or kept.  Every
answer says C{Server: chat}, and neither the software underneath nor its
version.
"""

from __future__ import annotations

from typing import Any

from twisted.web.server import Request, Site

SERVER = b"chat"
"""The C{Server} header of every answer."""

TOO_LARGE = (
    b"HTTP/1.1 413 Content Too Large\r\n"
    b"Server: " + SERVER + b"\r\n"
    b"Connection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)
"""The answer to a request with a body, given before the body is read."""


class BodilessRequest(Request):
    """A request to a web site of the server: no body, C{Server: chat}."""

    def gotLength(self, length: int | None) -> None:
        """
        Its headers are in: with a body (C{length} above 0, or L{None} for
        chunked) it is refused and its connection closed, before the body.
        """
        if length == 0:
            super().gotLength(length)
            return
        # Nothing more is read: Twisted Web stops parsing once the
        # connection is closing.  Nor is C{100 Continue} sent.
        self.requestHeaders.removeHeader(b"expect")
        transport: Any = self.channel.transport
        transport.write(TOO_LARGE)
        transport.loseConnection()

    def write(self, data: bytes) -> None:
        if not self.startedWriting:
            self.setHeader(b"server", SERVER)
            self.setHeader(b"connection", b"close")
        super().write(data)

    def finish(self) -> None:
        """
        Answered: the connection closes after it, as the answer said.  One
        request a connection: it holds its place in the room no longer
        than that.
        """
        channel = self.channel
        super().finish()
        channel.loseConnection()


class ChatSite(Site):
    """A web site of the server: its requests are L{BodilessRequest}s."""

    requestFactory = BodilessRequest
