"""
The write path: output to a client goes straight to its socket, and only
what the socket does not take at once is queued.

Twisted's C{transport.write} buffers every write and sends it on the next
reactor iteration (register for writability, send, unregister): about 10 us
of CPU per message and recipient, which is most of the cost of relaying
sparse traffic.  A plain TCP or UNIX connection is a
L{twisted.internet.tcp.Connection}, whose socket L{ISystemHandle.getHandle}
gives: while nothing of ours is queued in the transport, sending on that
socket directly keeps the byte order and costs one C{send()}.

When a send is partial, the rest goes to C{transport.write} and the client
gets an L{Outbox}: further output is kept there, counted, until the
transport reports its buffer empty by asking its (pull) producer for more.
Only then does output go to the socket directly again.  No private state of
Twisted is read: the transport tells us through the public producer API.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

from twisted.internet import tcp
from twisted.internet.interfaces import IPullProducer, ITransport
from zope.interface import implementer


class Recipient(Protocol):
    """The client an L{Outbox} holds output for."""

    transport: Any
    outbox: Outbox | None

    def deliver(self, data: bytes) -> None:
        """Send C{data} on, directly if nothing is held."""


def directSocket(transport: ITransport) -> socket.socket | None:
    """
    The socket output to C{transport} may be sent on directly, or L{None}
    when output must go through C{transport.write} (TLS, for instance).

    Output is already coalesced per reactor iteration, so a TCP socket gets
    C{TCP_NODELAY}: Nagle's algorithm would only hold the next round back
    until the previous one is acknowledged.
    """
    if not isinstance(transport, tcp.Connection):
        return None
    handle = transport.getHandle()
    if handle.family in (socket.AF_INET, socket.AF_INET6):
        handle.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return handle


@implementer(IPullProducer)
class Outbox:
    """
    Output held for a client whose socket did not take everything at once.

    It is registered as the transport's pull producer, so the transport calls
    L{resumeProducing} when it has written all it had: then what was held
    here is sent on, and the client goes back to sending directly.

    @ivar size: bytes held, in this outbox and in the transport.
    """

    def __init__(self, client: Recipient, rest: bytes) -> None:
        self._client = client
        self._held: list[bytes] = []
        self.size = len(rest)
        self._transport = client.transport
        self._transport.write(rest)
        # Registering a pull producer asks it for data at once; the
        # transport is not empty yet, so that first call is not a drain.
        self._registering = True
        self._transport.registerProducer(self, False)
        self._registering = False

    def add(self, data: bytes) -> None:
        self._held.append(data)
        self.size += len(data)

    def resumeProducing(self) -> None:
        """The transport has written everything it had."""
        if self._registering:
            return
        self._transport.unregisterProducer()
        self._client.outbox = None
        if self._held:
            self._client.deliver(b"".join(self._held))

    def stopProducing(self) -> None:
        """The connection is gone; so is what was held for it."""
        self._held = []
