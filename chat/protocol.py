"""
One connected chat client: turns the bytes it sends into lines for the room,
and sends it what the room has for it.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITransport
from twisted.internet.protocol import Protocol as BaseProtocol
from twisted.internet.protocol import connectionDone
from twisted.protocols.basic import LineReceiver
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure

from chat import wire
from chat.gate import Hold, ReadGate
from chat.interfaces import IClientHub
from chat.limits import TokenBucket
from chat.sendq import SendQueue, sendQueueFor

UNNUMBERED = -1
"""The id of a client until the room has given it one."""

TOO_LONG = b"/\n"
"""
Handed to the room in place of a line that is refused whole for being longer
than C{MAX_LENGTH} (see L{ChatProtocol.wholeCommands}).  No line a client
sends holds a C{\\n}, so it stands for nothing else; it begins with C{/}, so
the room takes it the way of commands (or of logins, before the client has
an id), never of lines to relay.
"""


class ChatProtocol(LineReceiver, TimeoutMixin):
    """
    A chat client's connection.

    L{LineReceiver} re-slices its whole buffer once per line (Twisted ticket
    6357), which is quadratic in the size of a received chunk.  This protocol
    keeps its API (C{lineReceived}, C{pauseProducing}/C{resumeProducing},
    C{clearLineBuffer}, C{MAX_LENGTH}) but keeps a buffer of its own, splits
    each received chunk in one pass and hands all of its complete lines to
    the room at once.

    Lines end with C{\\n}; one C{\\r} right before it is removed.  A line
    longer than C{MAX_LENGTH} is passed on in pieces of C{MAX_LENGTH} bytes,
    never dropped; at most C{MAX_LENGTH} bytes of a partial line (plus a
    C{\\r} that may turn out to be half of a CRLF) stay buffered.  With
    L{wholeCommands}, a command line longer than that is refused whole
    instead: L{TOO_LONG} is passed on in its place as soon as it is too
    long, and its bytes are dropped up to the next C{\\n}; and a piece of
    another line that begins with C{/} is passed on escaped as C{//}, so
    that the room relays it as it is.

    Input is read while the client's L{ReadGate} is open.  Under flood
    control, what the client sent past its allowance stays in the buffer as
    it came, unparsed, and the gate is held until the allowance refills.

    @ivar hub: the room this client is in.
    @ivar clientId: the id the room gave this client, L{UNNUMBERED} before.
    @ivar nick: the client's nick (C{--commands}), or L{None}.
    @ivar sendq: everything sent to this client goes through it.
    @ivar gate: whether this client's input is read, and why not.
    @ivar bucket: the client's allowance of lines under flood control, or
        L{None} when it has none.
    @ivar host: the IP address the client is counted under for the limit
        of clients per address, or L{None}.
    """

    bucket: TokenBucket | None = None
    host: str | None = None
    nick: bytes | None = None
    wholeCommands = False
    """Whether commands act on this client's lines (C{--commands}): then a
    line that begins with C{/}, or any line before the client has an id,
    is refused whole when it is longer than C{MAX_LENGTH}."""
    # Defaults as class attributes: an idle client stores none of them.
    _unread = b""
    _ended = False
    _discarding = False
    _continued = False
    """Whether the partial line buffered is the rest of a line whose first
    pieces were relayed: text, whatever its rest begins with."""
    _deadline: IDelayedCall | None = None
    sendq: SendQueue
    gate: ReadGate

    via = ""
    """How the client reached the server, when not over a plain stream
    (C{"web"}): the log says so."""

    welcome: Callable[[list[int]], None] | None = None
    """Called, when set, as the client enters the room, with the ids of the
    clients already there: for clients (browsers) that are told them."""

    queueFor: Callable[[ITransport], SendQueue] | None = None
    """Makes the client's send queue, when set, instead of L{sendQueueFor}:
    for clients (browsers) whose lines are framed on their way."""

    delimiter = wire.DELIMITER

    def __init__(self, hub: IClientHub, maxLine: int, clock: IReactorTime) -> None:
        self.hub = hub
        self._clock = clock
        self.MAX_LENGTH = maxLine
        self.number(UNNUMBERED)

    def number(self, clientId: int) -> None:
        """Give this client its id."""
        self.clientId = clientId
        self._prefixWith(wire.linePrefix(clientId))

    def rename(self, nick: bytes) -> None:
        """From now on this client is C{nick} to the others."""
        self.nick = nick
        self._prefixWith(nick + b": ")

    def _prefixWith(self, prefix: bytes) -> None:
        self._prefix = prefix
        self._separator = wire.DELIMITER + prefix

    @property
    def commandMark(self) -> bytes:
        """
        In L{frame}'s output wherever one of the lines begins with C{/}: the
        lines of a frame without it hold no command.  (Made when asked, which
        is only with C{--commands} and a C{/} in the frame: an idle client
        keeps one bytes object less.)
        """
        return self._prefix + b"/"

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
        return self._prefix + self._separator.join(lines) + wire.DELIMITER

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
        if self._discarding:  # the rest of a line refused whole: up to its \n
            end = data.find(b"\n")
            self._discarding = end < 0
            data = data[end + 1 :] if end >= 0 else b""
        self._unread += data
        if self.gate.open:
            self._readUnread()

    def _readUnread(self) -> None:
        """Relay what has been received, as far as flood control allows."""
        data = self._unread
        end = data.rfind(b"\n") + 1
        allowed = end if self.bucket is None else self._allowance(data, end)
        if allowed:
            self._unread = data[allowed:]
            self._receiveBlock(data[:allowed])
        if allowed < end:
            self._throttle()
        elif len(self._unread) > self.MAX_LENGTH and self.gate.open:
            self._receiveOverlong()

    def _refusesWhole(self, line: bytes, continued: bool = False) -> bool:
        """
        Whether C{line}, or its beginning, too long, is refused whole; never
        when it is C{continued}, the rest of a line cut into pieces.
        """
        return (
            self.wholeCommands
            and not continued
            and (line.startswith(b"/") or self.clientId == UNNUMBERED)
        )

    def _allowance(self, data: bytes, end: int) -> int:
        """
        How much of C{data[:end]}, whole lines, flood control lets through
        now.  A line is let through while the client has a line's allowance
        left, and costs one line for each piece it is relayed as (one, when
        it is refused whole).
        """
        bucket, limit = self.bucket, self.MAX_LENGTH
        assert bucket is not None
        budget = bucket.available()
        if end <= limit + 1:  # no line is cut into pieces
            lines = data.count(b"\n", 0, end)
            if lines <= budget:
                bucket.spend(lines)
                return end
        spent, start = 0, 0
        while start < end and budget - spent >= 1:
            stop = data.index(b"\n", start, end)
            content = stop - start - (data[stop - 1 : stop] == b"\r")
            first = data[start : start + 1]
            continued = start == 0 and self._continued
            if content <= limit or self._refusesWhole(first, continued):
                spent += 1
            else:
                spent += -(-content // limit)
            start = stop + 1
        bucket.spend(spent)
        return start

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

    def lineReceived(self, line: bytes) -> None:
        self.linesReceived([line])

    def linesReceived(self, lines: list[bytes]) -> None:
        """
        The lines of one received chunk, in order: the unit of work of the
        relay, so that its cost is per chunk rather than per line.
        """
        self.hub.relay(self, lines)

    def _receiveBlock(self, block: bytes) -> None:
        """
        Relay C{block}, one or more complete lines each ending with C{\\n}.
        """
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n")
        lines = block.split(b"\n")
        del lines[-1]
        rest: list[bytes] = []
        if self._continued:
            self._continued = False
            rest = self._textPieces(lines.pop(0))
        if len(block) > self.MAX_LENGTH + 1:
            lines = self._cut(lines)
        self.linesReceived(rest + lines if rest else lines)

    def _receiveOverlong(self) -> None:
        """
        Relay the leading pieces of a buffered partial line that has grown
        past C{MAX_LENGTH}, keeping the rest buffered; or, if the line is
        refused whole, refuse it now and drop the rest of it as it comes.
        """
        pending, limit = self._unread, self.MAX_LENGTH
        # A trailing \r may be dropped by a \n yet to come: do not count it.
        content = len(pending) - (pending.endswith(b"\r"))
        whole = (content - 1) // limit * limit
        if not whole:
            return
        refused = self._refusesWhole(pending, self._continued)
        if self.bucket is not None:
            if self.bucket.available() < 1:
                self._throttle()
                return
            self.bucket.spend(1 if refused else whole // limit)
        if refused:
            self._unread, self._discarding = b"", True
            self.linesReceived([TOO_LONG])
        else:
            self._unread, self._continued = pending[whole:], True
            self.linesReceived(self._textPieces(pending[:whole]))

    def _cut(self, lines: list[bytes]) -> list[bytes]:
        limit = self.MAX_LENGTH
        if max(map(len, lines), default=0) <= limit:
            return lines
        cut: list[bytes] = []
        for line in lines:
            if len(line) <= limit:
                cut.append(line)
            elif self._refusesWhole(line):
                cut.append(TOO_LONG)
            else:
                cut.extend(self._textPieces(line))
        return cut

    def _textPieces(self, line: bytes) -> list[bytes]:
        """
        The pieces of at most C{MAX_LENGTH} bytes that C{line}, text, is
        relayed as.  With commands on, a piece that begins with C{/} is
        handed on escaped, as a line beginning with C{//} is, so that it is
        relayed as it is, never taken for a command.
        """
        pieces = _pieces(line, self.MAX_LENGTH)
        if self.wholeCommands:
            pieces = [b"/" + each if each[:1] == b"/" else each for each in pieces]
        return pieces

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
        rest = self.clearLineBuffer()
        if not rest:
            return 0
        if not rest.endswith(b"\n"):
            rest += b"\n"
        allowed = 0
        if relay:
            allowed = rest.rfind(b"\n") + 1
            if self.bucket is not None:
                allowed = self._allowance(rest, allowed)
            if allowed:
                self._receiveBlock(rest[:allowed])
        return rest.count(b"\n", allowed)

    @property
    def buffered(self) -> int:
        """Bytes received from the client and not relayed yet."""
        return len(self._unread)

    def clearLineBuffer(self) -> bytes:
        rest, self._unread = self._unread, b""
        return rest

    # The producer API of LineReceiver, through the gate

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
