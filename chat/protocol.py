"""
One connected chat client: turns the bytes it sends into lines for the room.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Protocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol as BaseProtocol
from twisted.internet.protocol import connectionDone
from twisted.protocols.basic import LineReceiver
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure

from chat import wire
from chat.limits import TokenBucket
from chat.outbox import Outbox, directSocket


class Hub(Protocol):
    """
    What a L{ChatProtocol} needs from the room it was built by.
    """

    def join(self, client: ChatProtocol) -> None:
        """C{client} has connected."""

    def relay(self, sender: ChatProtocol, lines: list[bytes]) -> None:
        """C{sender} has sent C{lines} (without their delimiters)."""

    def leave(self, client: ChatProtocol, reason: Failure) -> None:
        """C{client} has gone away; all of its lines were relayed before."""

    def dismiss(self, client: ChatProtocol, notice: bytes, why: str) -> None:
        """Tell C{client} C{notice} and close its connection."""


class ChatProtocol(LineReceiver, TimeoutMixin):
    """
    A chat client's connection.

    L{LineReceiver} re-slices its whole buffer once per line (Twisted ticket
    6357), which is quadratic in the size of a received chunk.  This protocol
    keeps its API (C{lineReceived}, C{pauseProducing}/C{resumeProducing},
    C{clearLineBuffer}, C{MAX_LENGTH}) but splits each received chunk in one
    pass and hands all of its complete lines to the room at once.

    Lines end with C{\\n}; one C{\\r} right before it is removed.  A line
    longer than C{MAX_LENGTH} is passed on in pieces of C{MAX_LENGTH} bytes,
    never dropped; at most C{MAX_LENGTH} bytes (plus a C{\\r} that may turn out
    to be half of a CRLF) stay buffered.

    @ivar hub: the room this client is in.
    @ivar clientId: the id the room gave this client.
    @ivar outbox: output held for this client while its socket is full, or
        L{None} while output can go straight to the socket.
    @ivar bucket: the client's allowance of lines under flood control, or
        L{None} when it has none.
    """

    bucket: TokenBucket | None = None

    delimiter = wire.DELIMITER

    def __init__(
        self, hub: Hub, clientId: int, maxLine: int, clock: IReactorTime
    ) -> None:
        self.hub = hub
        self._clock = clock
        self.MAX_LENGTH = maxLine
        self.renumber(clientId)
        self._socket: socket.socket | None = None
        self._gone = False
        self.outbox: Outbox | None = None

    def renumber(self, clientId: int) -> None:
        """
        Give this client its id: at construction, or once a cluster has
        handed it out.
        """
        self.clientId = clientId
        self._prefix = wire.linePrefix(clientId)
        self._separator = wire.DELIMITER + self._prefix

    def frame(self, lines: list[bytes]) -> bytes:
        """
        The bytes every other client receives for C{lines} from this one:
        built once, whatever the number of recipients.
        """
        return self._prefix + self._separator.join(lines) + wire.DELIMITER

    def connectionMade(self) -> None:
        self._socket = directSocket(self.transport)  # type: ignore[arg-type]
        self.hub.join(self)

    def timeoutConnection(self) -> None:
        self.hub.dismiss(self, wire.IDLE_TIMEOUT, "idle timeout")

    def resumeReading(self) -> None:
        """Resume reading after flood control paused it, unless gone."""
        if not self._gone:
            self.resumeProducing()

    def deliver(self, data: bytes) -> None:
        """
        Send C{data} to this client: straight to its socket while nothing is
        held for it, otherwise after what is held (see L{chat.outbox}).
        """
        if self.outbox is not None:
            self.outbox.add(data)
            return
        if self._socket is None:
            # Nothing can be sent directly: all of it goes to the transport,
            # which says when it has drained.
            self.outbox = Outbox(self, data)
            return
        try:
            sent = self._socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            # Let the transport meet the error and close the connection.
            self.transport.write(data)  # type: ignore[union-attr]
            return
        if sent < len(data):
            self.outbox = Outbox(self, data[sent:])

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        if self._busyReceiving or self.paused:
            self._buffer += data
            return
        self._busyReceiving = True
        try:
            data = self._buffer + data
            end = data.rfind(b"\n") + 1
            self._buffer = data[end:]
            if end:
                self._receiveBlock(data[:end])
            if len(self._buffer) > self.MAX_LENGTH and not self.paused:
                self._receiveOverlong()
        finally:
            self._busyReceiving = False

    def lineReceived(self, line: bytes) -> None:
        self.linesReceived([line])

    def linesReceived(self, lines: list[bytes]) -> None:
        """
        The lines of one received chunk, in order: the unit of work of the
        relay, so that its cost is per chunk rather than per line.

        Under flood control, the lines past the client's allowance go back
        to the buffer, and reading stops until they are allowed.
        """
        if self.bucket is not None:
            allowed = self.bucket.allow(len(lines))
            if allowed < len(lines):
                self._holdBack(lines[allowed:])
                del lines[allowed:]
            if not lines:
                return
        self.hub.relay(self, lines)

    def _holdBack(self, lines: list[bytes]) -> None:
        # Relaying these lines later, complete and CR-free as they are now,
        # gives the same bytes as relaying them now.
        self._buffer = b"\n".join(lines) + b"\n" + self._buffer
        if not self.paused:
            self.pauseProducing()
            self.callLater(self.bucket.wait(), self.resumeReading)  # type: ignore[union-attr]

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Time for flood control and the idle timeout, from the room's clock."""
        return self._clock.callLater(period, func)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._gone = True
        self.setTimeout(None)
        self.bucket = None  # what it sent is relayed now, allowed or not
        rest = self.clearLineBuffer()
        if rest:
            self._receiveBlock(rest + wire.DELIMITER)
        self.hub.leave(self, reason)

    def _receiveBlock(self, block: bytes) -> None:
        """
        Relay C{block}, one or more complete lines each ending with C{\\n}.
        """
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n")
        lines = block.split(b"\n")
        del lines[-1]
        if len(block) > self.MAX_LENGTH + 1:
            lines = self._cut(lines)
        self.linesReceived(lines)

    def _receiveOverlong(self) -> None:
        """
        Relay the leading pieces of a buffered partial line that has grown
        past C{MAX_LENGTH}, keeping the rest buffered.
        """
        pending, limit = self._buffer, self.MAX_LENGTH
        # A trailing \r may be dropped by a \n yet to come: do not count it.
        content = len(pending) - (pending.endswith(b"\r"))
        whole = (content - 1) // limit * limit
        if whole:
            self._buffer = pending[whole:]
            self.linesReceived(_pieces(pending[:whole], limit))

    def _cut(self, lines: list[bytes]) -> list[bytes]:
        limit = self.MAX_LENGTH
        if max(map(len, lines)) <= limit:
            return lines
        cut: list[bytes] = []
        for line in lines:
            if len(line) > limit:
                cut.extend(_pieces(line, limit))
            else:
                cut.append(line)
        return cut


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


class TurnedAway(BaseProtocol):
    """
    A connection the room has no place for: it is told why and closed.
    """

    def __init__(self, notice: bytes) -> None:
        self._notice = notice

    def connectionMade(self) -> None:
        self.transport.write(self._notice)  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]
