"""
One connected chat client: turns the bytes it sends into lines for the room,
and sends it what the room has for it.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.interfaces import (
    IDelayedCall,
    IPushProducer,
    IReactorTime,
    ITransport,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from zope.interface import implementer

from chat.core import wire
from chat.core.gate import Hold, ReadGate
from chat.core.interfaces import IClient, IClientHub
from chat.core.limits import TokenBucket
from chat.core.lines import LineSplitter
from chat.core.lobby import UNNUMBERED
from chat.core.sendq import SendQueue, sendQueueFor


@implementer(IClient, IPushProducer)
class ChatProtocol(Protocol, TimeoutMixin):
    """
    A chat client's connection: a byte stream whose lines
    (L{chat.core.lines.LineSplitter}) go to the room, all the complete lines of
    one received chunk at once.

    Input is read while the client's L{ReadGate} is open.  Under flood
    control, what the client sent past its allowance stays buffered as it
    came, unparsed, and the gate is held until the allowance refills.

    @ivar hub: the room this client is in.
    @ivar clientId: the id the room gave this client, L{UNNUMBERED} before.
    @ivar nick: the client's nick (C{--commands}), or L{None}.
    @ivar sendq: everything sent to this client goes through it.
    @ivar gate: whether this client's input is read, and why not.
    @ivar bucket: the client's allowance of lines under flood control, or
        L{None} when it has none.
    @ivar host: the IP address the client is counted under for the limit
        of clients per address, or L{None}.
    @ivar maxLine: the longest line relayed as it is; longer ones are cut.
    """

    bucket: TokenBucket | None = None
    host: str | None = None
    nick: bytes | None = None
    # Defaults as class attributes: an idle client stores none of them.
    _ended = False
    _deadline: IDelayedCall | None = None
    sendq: SendQueue
    gate: ReadGate

    via = ""
    """How the client reached the server, when not over a plain stream
    (C{"web"}): the log says so."""

    welcomed = False
    """Whether the client is told, as it enters the room, its id and who is
    there: browsers are."""

    queueFor: Callable[[ITransport], SendQueue] | None = None
    """Makes the client's send queue, when set, instead of L{sendQueueFor}:
    for clients (browsers) whose lines are framed on their way."""

    def __init__(self, hub: IClientHub, maxLine: int, clock: IReactorTime) -> None:
        self.hub = hub
        self._clock = clock
        self.maxLine = maxLine
        self._lines = LineSplitter(maxLine)
        self.number(UNNUMBERED)

    @property
    def wholeCommands(self) -> bool:
        """
        Whether commands act on this client's lines (C{--commands}): then a
        line that begins with C{/}, or any line before the client has an
        id, is refused whole when it is longer than C{maxLine}.
        """
        return self._lines.commands

    @wholeCommands.setter
    def wholeCommands(self, on: bool) -> None:
        self._lines.commands = on

    def number(self, clientId: int) -> None:
        """Give this client its id."""
        self.clientId = clientId
        self._lines.everyLine = clientId == UNNUMBERED
        self._prefix = b""  # made at its first line: an idle client needs none

    def rename(self, nick: bytes) -> None:
        """From now on this client is C{nick} to the others."""
        self.nick = nick
        self._prefix = nick + b": "

    @property
    def commandMark(self) -> bytes:
        """
        In L{frame}'s output wherever one of the lines begins with C{/}: the
        lines of a frame without it hold no command.  (Made when asked.)
        """
        return (self._prefix or self._makePrefix()) + b"/"

    @property
    def label(self) -> bytes:
        """How the others know this client: its nick, or C{client N}."""
        return self.nick or wire.clientLabel(self.clientId)

    @property
    def ended(self) -> bool:
        """Whether the client's input has ended: it is leaving."""
        return self._ended

    def frame(self, lines: list[bytes]) -> bytes:
        """
        The bytes every other client receives for C{lines} from this one:
        built once, whatever the number of recipients.
        """
        prefix = self._prefix or self._makePrefix()
        if len(lines) == 1:
            return prefix + lines[0] + wire.DELIMITER
        return prefix + (wire.DELIMITER + prefix).join(lines) + wire.DELIMITER

    def _makePrefix(self) -> bytes:
        """What comes before each of this client's lines, as C{client N}."""
        self._prefix = wire.linePrefix(self.clientId)
        return self._prefix

    def connectionMade(self) -> None:
        self.sendq = (self.queueFor or sendQueueFor)(self.transport)  # type: ignore[arg-type]
        self.gate = ReadGate(self.transport, self._readUnread)  # type: ignore[arg-type]
        self.hub.join(self)

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Time for flood control, closing and the idle timeout: the room's."""
        return self._clock.callLater(period, func)

    def timeoutConnection(self) -> None:
        self.hub.dismiss(self, wire.IDLE_TIMEOUT, "idle timeout")

    # Reading

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        if self._ended:
            return
        self._lines.feed(data)
        if self.gate.open:
            self._readUnread()

    def _readUnread(self) -> None:
        """Relay what has been received, as far as flood control allows."""
        lines = self._lines
        end = lines.complete()
        allowed = end if self.bucket is None else self._allowance(end)
        if allowed:
            self.linesReceived(lines.take(allowed))
        if allowed < end:
            self._throttle()
        elif lines.overlong and self.gate.open:
            self._receiveOverlong()

    def _allowance(self, end: int) -> int:
        """
        How much of the buffer up to C{end}, complete lines, flood control
        lets through now; the lines it is are spent.
        """
        bucket = self.bucket
        assert bucket is not None
        allowed, spent = self._lines.afford(end, bucket.available())
        bucket.spend(spent)
        return allowed

    def _throttle(self) -> None:
        """Stop reading until flood control allows another line."""
        if Hold.FLOOD not in self.gate.holds:
            self.gate.hold(Hold.FLOOD)
            self.hub.throttled(self)
            wait = self.bucket.wait()  # type: ignore[union-attr]
            self.callLater(wait, self._floodOver)

    def _floodOver(self) -> None:
        if not self._ended:
            self.gate.release(Hold.FLOOD)

    def linesReceived(self, lines: list[bytes]) -> None:
        """
        The lines of one received chunk, in order: the unit of work of the
        relay, so that its cost is per chunk rather than per line.
        """
        self.hub.relay(self, lines)

    def _receiveOverlong(self) -> None:
        """
        Relay the leading pieces of a buffered partial line that has grown
        past C{maxLine}, keeping the rest buffered, or refuse it whole, as
        far as flood control allows.
        """
        lines = self._lines
        cost = lines.overlongCost()
        if not cost:
            return
        if self.bucket is not None:
            if self.bucket.available() < 1:
                self._throttle()
                return
            self.bucket.spend(cost)
        self.linesReceived(lines.takeOverlong())

    def endInput(self, relay: bool = True) -> int:
        """
        The client's input ends: it is leaving.  With C{relay}, what it sent
        is relayed, a partial line as if it had ended with C{\\n}, as far as
        flood control allows; nothing is relayed after.

        @return: how many lines were dropped: past the client's allowance,
            or all of them without C{relay}.
        """
        if self._ended:
            return 0
        self._ended = True
        lines = self._lines
        lines.end()
        if relay:
            end = lines.complete()
            allowed = end if self.bucket is None else self._allowance(end)
            if allowed:
                self.linesReceived(lines.take(allowed))
        return lines.clear().count(b"\n")

    @property
    def buffered(self) -> int:
        """Bytes received from the client and not relayed yet."""
        return self._lines.buffered

    def clearLineBuffer(self) -> bytes:
        """Forget what was received and not relayed yet, and return it."""
        return self._lines.clear()

    # Reading, as a producer: through the gate

    def pauseProducing(self) -> None:
        self.gate.hold(Hold.CONSUMER)

    def resumeProducing(self) -> None:
        self.gate.release(Hold.CONSUMER)

    def stopProducing(self) -> None:
        self.transport.stopProducing()  # type: ignore[union-attr]

    # Closing

    def close(self, grace: float | None) -> None:
        """
        Close the connection once what is held for the client is sent, or
        cut it off after C{grace} seconds if it does not read it (L{None}:
        the caller sees to that).
        """
        self.sendq.finish()
        self.transport.loseConnection()  # type: ignore[union-attr]
        if grace is not None and self._deadline is None:
            self._deadline = self.callLater(
                grace,
                self.transport.abortConnection,  # type: ignore[union-attr]
            )

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.setTimeout(None)
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self.hub.leave(self, reason)


class TurnedAway(Protocol):
    """
    A connection the room has no place for: it is told why and closed.
    """

    def __init__(self, notice: bytes) -> None:
        self._notice = notice

    def connectionMade(self) -> None:
        self.transport.write(self._notice)  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]
