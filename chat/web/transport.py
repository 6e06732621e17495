"""
The transport of a room client that is a browser: what the room's
L{chat.tcp.protocol.ChatProtocol} writes to, pauses and closes, over one
WebSocket.

The room writes complete lines, each ending with C{\\n}, to the client's send
queue, which makes each one a text frame without its C{\\n} as it is written
(L{chat.web.socket.Framing}) and holds them with what the WebSocket itself
sends (pongs, the close frame): this transport is given frames.  Input is
paused, and output held counted in the client's send queue, at the network
connection underneath, so that flood control and the SendQ limits act on a
browser as on a TCP client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from twisted.internet.interfaces import (
    IAddress,
    IConsumer,
    IProducer,
    IPushProducer,
    ITransport,
)
from zope.interface import implementer


class LineSocket(Protocol):
    """The WebSocket a L{SocketTransport} sends on."""

    def sendFrames(self, data: bytes) -> None:
        """Send C{data}, frames (or a slice of them), as it is."""

    def closeSocket(self) -> None:
        """Close the WebSocket once what was sent is on its way."""


@implementer(ITransport, IPushProducer, IConsumer)
class SocketTransport:
    """
    A room client's transport over a WebSocket.

    As a push producer it is the client's input: pausing it stops reading
    the network connection.  As a consumer it takes the client's output
    from its send queue, the queue's own producer, which the network
    connection pauses (L{outputPaused}) while its buffer is full: what a
    browser does not read is then held in the send queue, counted against
    the SendQ limits.

    @ivar producer: the client's send queue while it is registered.
    @ivar disconnecting: whether L{loseConnection} was called.
    """

    disconnecting = False

    def __init__(self, socket: LineSocket, network: Any) -> None:
        self._socket = socket
        self._network = network
        self._closed = False
        self._closing = False
        self.producer: IPushProducer | None = None

    # Output

    def write(self, data: bytes) -> None:
        """Send C{data}, frames from the send queue, as it is."""
        if not self._closed:
            self._socket.sendFrames(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        self.write(b"".join(data))

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        if not streaming:
            raise ValueError("a WebSocket client's output comes from a push producer")
        self.producer = IPushProducer(producer)

    def unregisterProducer(self) -> None:
        self.producer = None
        if self.disconnecting:
            self._close()

    def outputPaused(self) -> None:
        """The network connection's buffer is full: hold output back."""
        if self.producer is not None:
            self.producer.pauseProducing()

    def outputResumed(self) -> None:
        """The network connection's buffer has room again."""
        if self.producer is not None:
            self.producer.resumeProducing()

    # Input

    def pauseProducing(self) -> None:
        if not self.disconnecting:
            self._network.pauseProducing()

    def resumeProducing(self) -> None:
        if not self.disconnecting:
            self._network.resumeProducing()

    def stopProducing(self) -> None:
        self._network.stopProducing()

    # Closing

    def loseConnection(self) -> None:
        """
        Close the WebSocket once the send queue, if one is registered, has
        written everything it holds and unregistered.  The network is read
        again, whoever held the client's input: the closing handshake needs
        the browser's answer; what else comes is not the client's input any
        more.
        """
        if not self.disconnecting:
            self.disconnecting = True
            self._network.resumeProducing()
            if self.producer is None:
                self._close()

    def _close(self) -> None:
        """
        Close the WebSocket: its close frame, sent through the send queue,
        is the last thing written.
        """
        if self._closing:
            return
        self._closing = True
        self._socket.closeSocket()
        self._closed = True

    def abortConnection(self) -> None:
        self._closed = True
        self._network.abortConnection()

    def connectionLost(self) -> None:
        """
        The network connection is gone: so is the output held for it, as a
        TCP transport tells its producer.
        """
        self._closed = True
        producer, self.producer = self.producer, None
        if producer is not None:
            producer.stopProducing()

    # Addresses

    def getPeer(self) -> IAddress:
        peer: IAddress = self._network.getPeer()
        return peer

    def getHost(self) -> IAddress:
        host: IAddress = self._network.getHost()
        return host
