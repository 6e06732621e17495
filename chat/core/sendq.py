"""
The write path: all output to one client goes through its L{SendQueue},
which sends it on at once when it can and holds, counted exactly, what the
client cannot take yet: its SendQ, which the room holds against the limits
of pending output.

Twisted's C{transport.write} buffers every write and sends it on the next
reactor iteration (register for writability, send, unregister): about 10 us
of CPU per message and recipient, most of the cost of relaying sparse
traffic.  A plain TCP or UNIX connection is a
L{twisted.internet.tcp.Connection}, whose socket L{ISystemHandle.getHandle}
gives: output goes to that socket directly, one C{send()}, and what the
socket does not take is held here.  The queue is then the transport's pull
producer, and asks the transport (C{startWriting}) to tell it when the socket
is writable again: the transport, whose own buffer stays empty, calls
L{SendQueue.resumeProducing}, and the queue sends more.  So the count is
exactly what the server holds for the client.

Other transports (TLS, or anything without a socket of its own) get output
through C{transport.write}, at most a slice at a time, while they do not
ask their (push) producer to pause: they hold at most a slice and their own
buffer (64 KiB) beyond the count.

The SendQ limits are checked as output is written, whoever writes it: a
queue that holds more than its limit after a write says so at once
(L{SendQueue.watch}), so that a client past its limit is cut off before
more is made for it.  Output may be pieces shared by many clients (a round
joined once, the blocks of the history): a queue holds them by reference.
"""

from __future__ import annotations

import socket
import sys
from collections import deque
from collections.abc import Callable

from twisted.internet import tcp
from twisted.internet.interfaces import (
    IConsumer,
    IPullProducer,
    IPushProducer,
    ITransport,
)
from zope.interface import implementer

from chat.core.interfaces import IClient, ISendQueue

SLICE = 1 << 16
"""Bytes handed to a transport at once, or put together for one send()."""

Chunk = bytes | memoryview
"""Output held: as written, or the unsent end of it."""


def directSocket(connection: tcp.Connection) -> socket.socket:
    """
    The socket of C{connection}, for output to be sent on directly.

    Output is already coalesced per reactor iteration, so a TCP socket gets
    C{TCP_NODELAY}: Nagle's algorithm would only hold the next round back
    until the previous one is acknowledged.
    """
    handle: socket.socket = connection.getHandle()
    if handle.family in (socket.AF_INET, socket.AF_INET6):
        handle.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return handle


def sendQueueFor(transport: ITransport) -> SendQueue:
    """The send queue for output to C{transport}."""
    if isinstance(transport, tcp.Connection):
        return SocketQueue(transport)
    return TransportQueue(transport)


@implementer(ISendQueue)
class SendQueue:
    """
    Output for one client: sent at once where possible, otherwise held, in
    order, until it can go.  A queue costs little while nothing is held:
    there are as many as there are clients, and most hold nothing.

    @ivar size: bytes held for the client, exactly.
    @ivar drains: how many times what was held has all been sent; a limit
        that looks at C{size} again later tells by it whether the client
        caught up meanwhile.
    """

    __slots__ = ("_held", "size", "drains", "_limit", "_overLimit", "_client")

    def __init__(self) -> None:
        self._held: deque[Chunk] | None = None
        self.size = 0
        self.drains = 0
        self._limit = sys.maxsize
        self._overLimit: Callable[[IClient], None] | None = None
        self._client: IClient | None = None

    def watch(
        self, limit: int, overLimit: Callable[[IClient], None], client: IClient
    ) -> None:
        """
        Call C{overLimit(client)} after every write that leaves more than
        C{limit} bytes held.
        """
        self._limit = limit
        self._overLimit = overLimit
        self._client = client

    def write(self, data: Chunk) -> None:
        """
        Send C{data} after everything sent before it.  C{data} is not
        copied: it must not change.
        """
        raise NotImplementedError

    def _checkLimit(self) -> None:
        """Say so if more than the limit is held."""
        if self.size > self._limit:
            self._overLimit(self._client)  # type: ignore[misc, arg-type]

    def _append(self, data: Chunk) -> None:
        """Hold C{data} after what is held already."""
        self._held.append(data)  # type: ignore[union-attr]
        self.size += len(data)

    def _hold(self, data: Chunk) -> None:
        """Hold C{data} before what is held already."""
        if self._held is None:
            self._held = deque()
        self._held.appendleft(data)
        self.size += len(data)

    def _take(self, most: int) -> Chunk:
        """
        Up to C{most} bytes from the head of what is held: small chunks put
        together, a large one sliced without copying it.
        """
        held = self._held
        assert held is not None
        head = held.popleft()
        if len(head) > most:
            view = memoryview(head)
            held.appendleft(view[most:])
            head = view[:most]
        elif held and len(head) + len(held[0]) <= most:
            parts = [head]
            taken = len(head)
            while held and taken + len(held[0]) <= most:
                taken += len(held[0])
                parts.append(held.popleft())
            head = b"".join(parts)
        self.size -= len(head)
        if not self.size:
            self._held = None
        return head

    def finish(self) -> None:
        """Nothing more will be written: the connection is being closed."""

    def stopProducing(self) -> None:
        """The connection is gone; so is what was held for it."""
        self._held = None
        self.size = 0


@implementer(IPullProducer)
class SocketQueue(SendQueue):
    """
    Output sent on a TCP or UNIX connection's socket directly; while some
    is held, the queue is the transport's pull producer.
    """

    __slots__ = ("_connection", "_socket")

    def __init__(self, connection: tcp.Connection) -> None:
        super().__init__()
        self._connection = connection
        self._socket = directSocket(connection)

    def write(self, data: Chunk) -> None:
        if self.size:
            self._append(data)
        elif self._sendOrHold(data):
            # A pull producer is asked for data as it is registered.
            self._connection.registerProducer(self, False)
        else:
            return
        self._checkLimit()

    def resumeProducing(self) -> None:
        """
        The socket may take more: send what is held.  While some is still
        held after that, the transport, whose own buffer stays empty, is
        asked to wait for the socket and call again.
        """
        while self.size:
            if self._sendOrHold(self._take(SLICE)):
                self._connection.startWriting()
                return
        self.drains += 1
        self._connection.unregisterProducer()

    def _sendOrHold(self, data: Chunk) -> bool:
        """
        Send C{data} on the socket and hold what it did not take, in front
        of what is held already.

        @return: whether the socket is full.
        """
        try:
            sent = self._socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            # The connection is broken: let the transport meet the error and
            # close it; what is still held for it will never be sent.
            self._connection.write(bytes(data))
            self.stopProducing()
            return False
        if sent == len(data):
            return False
        self._hold(memoryview(data)[sent:])
        return True


@implementer(IPushProducer)
class TransportQueue(SendQueue):
    """
    Output written to a transport, a slice at a time, while it does not ask
    to pause; the queue is its push producer for the whole connection.
    """

    __slots__ = ("_transport", "_paused", "_finishing")

    def __init__(self, transport: ITransport) -> None:
        super().__init__()
        self._transport: IConsumer = transport  # type: ignore[assignment]
        self._paused = False
        self._finishing = False
        self._transport.registerProducer(self, True)

    def write(self, data: Chunk) -> None:
        if self.size:
            self._append(data)
        else:
            self._hold(data)
            self._pump()
        self._checkLimit()

    def _pump(self) -> None:
        while self.size and not self._paused:
            self._transport.write(bytes(self._take(SLICE)))
            if not self.size:
                self.drains += 1
                if self._finishing:
                    self._transport.unregisterProducer()

    def finish(self) -> None:
        """
        Once everything held is written, stop being the transport's
        producer: a TLS transport closes only when it has none.
        """
        if not self._finishing:
            self._finishing = True
            if not self.size:
                self._transport.unregisterProducer()

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        self._pump()
