"""
The WebSocket at C{/ws}: each one is a room client, a
L{chat.tcp.protocol.ChatProtocol} built by the room as for a TCP connection,
on a L{SocketTransport}.

One text frame carries one line without its C{\\n}, both ways.  A browser
is told what a TCP client is not (notices that start with C{server: }, as
every notice does): its own id when it enters the room, and who is there.

The door's request (L{chat.web.http}) opens it with wsproto's handshake.
wsproto (sans-IO) then reads the frames it is given: control frames,
fragments, a frame not all there, bad input; this protocol answers pings
and closes, and sends every byte through the browser's send queue.  The
text frames that make up nearly all of the traffic are read many at a time
here, without it, and written framed once per batch for every browser that
receives it.
"""

from __future__ import annotations

from twisted.internet import tcp
from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Ping,
    TextMessage,
)
from zope.interface import implementer

from chat.core.lobby import CLOSE_GRACE
from chat.core.messages import Messages
from chat.tcp.protocol import ChatProtocol
from chat.web.admission import WebConnection
from chat.web.frames import FrameSender, Framing, TransportFrameSender
from chat.web.messages import (
    MessageFrames,
    MessageSender,
    TransportMessageSender,
)
from chat.web.origins import Origins
from chat.web.transport import SocketTransport

UNSUPPORTED_DATA = 1003
"""The close code for a binary frame: only text frames are taken."""

NORMAL_CLOSURE = 1000
"""The close code when the room closes a browser's connection."""


def unmask(key: bytes, payload: bytes) -> bytes:
    """C{payload} of a client's frame, unmasked with its C{key}."""
    size = len(payload)
    keys = (key * (size // 4 + 1))[:size]
    unmasked = int.from_bytes(payload, "little") ^ int.from_bytes(keys, "little")
    return unmasked.to_bytes(size, "little")


def takeTextFrames(data: bytes, position: int, lines: list[bytes]) -> int:
    """
    The whole, unfragmented, masked text frames of valid UTF-8 in C{data}
    from C{position} on, up to the first frame that is not one or not all
    there: their payloads go in C{lines}, each followed by C{\\n}.  Where
    they end.
    """
    end = len(data)
    while end - position >= 6:
        first, second = data[position], data[position + 1]
        # FIN, no extension bits (so not compressed), text; masked, under 64 KiB.
        if first != 0x81 or not 0x80 <= second < 0xFF:
            break
        size, start = second & 0x7F, position + 2
        if size == 126:
            size, start = int.from_bytes(data[start : start + 2], "big"), start + 2
            if size < 126:
                break  # not the shortest encoding: wsproto refuses it
        stop = start + 4 + size
        if stop > end:
            break
        payload = unmask(data[start : start + 4], data[start + 4 : stop])
        if not payload.isascii():
            try:
                payload.decode()
            except UnicodeDecodeError:
                break  # wsproto fails the connection for it
        lines.append(payload)
        lines.append(b"\n")
        position = stop
    return position


class FrameBounds:
    """
    Where the frames end in what wsproto is given: whether it is between
    two frames, and so whether whole frames can be taken at the head of a
    read without it; and whether a message has begun in them and not
    ended (a fragment), so that the next frames are its own.

    @ivar inMessage: whether the last data frame wsproto was given began
        or continued a message without ending it.
    """

    __slots__ = ("_head", "_rest", "inMessage")

    def __init__(self) -> None:
        self._head = b""
        self._rest = 0
        self.inMessage = False

    @property
    def between(self) -> bool:
        """Whether wsproto holds no part of a frame."""
        return not self._rest and not self._head

    def through(self, data: bytes, position: int) -> int:
        """
        Where, in C{data} from C{position} on, the frame wsproto is reading
        ends (or the next one, between frames); the end of C{data} if it
        does not end there.  Counted as given to wsproto.
        """
        end = len(data)
        if self._rest:
            given = min(self._rest, end - position)
            self._rest -= given
            return position + given
        held = len(self._head)
        head = self._head + data[position : position + 14]
        size = head[1] & 0x7F if len(head) > 1 else 0
        width = {126: 2, 127: 8}.get(size, 0)
        if len(head) < 2 + width:
            self._head = head  # the frame's length is not all here
            return end
        if not head[0] & 0x08:  # a data frame, not a control frame
            self.inMessage = not head[0] & 0x80
        if width:
            size = int.from_bytes(head[2 : 2 + width], "big")
        mask = 4 if head[1] & 0x80 else 0
        stop = position - held + 2 + width + mask + size
        self._head = b""
        if stop > end:
            self._rest = stop - end
            return end
        return stop

    def follow(self, data: bytes, position: int) -> None:
        """Count C{data} from C{position} on as given to wsproto."""
        while position < len(data):
            position = self.through(data, position)


class MessageLines:
    """
    A browser's text messages as its room client reads them: each message
    a line, handed on once it has ended, valid.  One longer than a line
    (C{limit} bytes) is handed on as it comes instead, as a long TCP line
    is, so that nothing waits for the end of a message of any size.
    """

    __slots__ = ("_limit", "_ready", "_message", "_held", "_long")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._ready: list[bytes] = []
        self._message: list[bytes] = []
        self._held = 0
        self._long = False

    def add(self, payload: bytes) -> None:
        """More of the message in progress."""
        if self._long:
            self._ready.append(payload)
            return
        self._message.append(payload)
        self._held += len(payload)
        if self._held > self._limit:
            self._ready += self._message
            self._long = True
            self._message.clear()

    def whole(self, lines: list[bytes]) -> None:
        """Messages that came whole, valid, each followed by C{\\n}."""
        self._ready += lines

    def end(self) -> None:
        """The message in progress has ended, valid: it is a line."""
        self._ready += self._message
        self._ready.append(b"\n")
        self._next()

    def cut(self) -> bool:
        """
        The message in progress will not end: what is held of it is
        forgotten.  Whether some of it was ready already (a long one).
        """
        long = self._long
        self._next()
        return long

    def _next(self) -> None:
        self._message.clear()
        self._held = 0
        self._long = False

    def take(self) -> bytes:
        """What is ready for the room client, and forget it."""
        ready = b"".join(self._ready)
        self._ready.clear()
        return ready


def senderFor(
    network: object,
    adapter: SocketTransport,
    frames: MessageFrames,
    speaks: tuple[Messages, int | None] | None,
) -> Framing:
    """
    The send queue of a browser on C{network}, whose room client's
    transport is C{adapter}: on the socket of a TCP connection, or through
    C{adapter}; of messages if it C{speaks} C{chat.json}.
    """
    if isinstance(network, tcp.Connection):
        if speaks is not None:
            return MessageSender(network, frames, *speaks)
        return FrameSender(network, frames)
    if speaks is not None:
        return TransportMessageSender(adapter, frames, *speaks)
    return TransportFrameSender(adapter, frames)


@implementer(IPushProducer)
class RoomSocket(Protocol):
    """
    A browser's WebSocket, and through it a room client.

    The door's request hands the connection over once it has accepted the
    upgrade (L{open}).  On a TCP connection the frames are sent on its
    socket directly, by a L{FrameSender}; on any other (TLS) they are
    written to it, and this protocol is its producer.  Either way, while
    the connection cannot take more, the client's send queue is paused and
    holds, counted, what the browser does not read: with the lines, the
    handshake's answer, the pongs and the close frame.

    wsproto's L{Connection} is made when a frame first needs it (most
    browsers only ever send whole text frames, read here): an idle
    WebSocket does not hold it.
    """

    factory: RoomSocketFactory
    door: WebConnection
    """The connection as the web door accepted it, in its place in the room."""
    _protocol: Connection | None = None
    _client: ChatProtocol | None = None
    _clientTransport: SocketTransport | None = None
    _sender: Framing | None = None
    _messages: MessageLines | None = None
    _frames: FrameBounds | None = None
    _grace: IDelayedCall | None = None
    _refused = False
    _failed = False
    _clean = False

    def connectionMade(self) -> None:
        network = self.transport
        if not isinstance(network, tcp.Connection):
            network.registerProducer(self, True)  # type: ignore[union-attr]

    def open(self, answer: bytes, speaks: tuple[Messages, int | None] | None) -> None:
        """
        The handshake is accepted: send its C{answer} (the 101) through the
        browser's send queue, made first, one of messages if it C{speaks}
        C{chat.json} (the room's messages and the id of C{since}); then the
        room client enters the room in the door's place.
        """
        network, frames = self.transport, self.factory.frames
        client = self.door.enter()
        client.via = "web"
        client.welcomed = True
        adapter = self._clientTransport = SocketTransport(self, network)
        sender = self._sender = senderFor(network, adapter, frames, speaks)
        sender.sendRaw(answer)
        client.queueFor = lambda transport: sender
        self._client = client
        self._frames = FrameBounds()
        self._messages = MessageLines(client.maxLine)
        client.makeConnection(adapter)
        client.queueFor = None  # asked once, as it connected: not kept

    # Input: the messages that have ended, handed on once a network read

    def dataReceived(self, data: bytes) -> None:
        """
        Take the whole, unfragmented, masked text frames here, many at a
        time, while wsproto is between frames and messages; give it the
        rest (control frames, fragments, a frame not all here, bad input):
        a frame at a time, to take the frames after it here again, or all
        of it while it reads a message or the connection closes.

        wsproto parses one frame at a time, in many Python calls, and
        decodes text to give it back as C{str}: a browser's lines, one
        frame each, arrive many to a network read.
        """
        frames, messages = self._frames, self._messages
        if frames is None or messages is None or self._failed:
            return
        position, end = 0, len(data)
        while position < end and not self._failed:
            protocol = self._protocol
            if (
                self._refused
                or frames.inMessage
                or (protocol is not None and protocol.state is not ConnectionState.OPEN)
            ):
                frames.follow(data, position)
                stop = end
            else:
                if frames.between:
                    lines: list[bytes] = []
                    position = takeTextFrames(data, position, lines)
                    messages.whole(lines)
                    if position == end:
                        break
                stop = frames.through(data, position)
            self._parse(data[position:stop])
            position = stop
        self._handOn()

    def _frameProtocol(self) -> Connection:
        """wsproto's connection, made the first time it is needed."""
        if self._protocol is None:
            self._protocol = Connection(ConnectionType.SERVER)
        return self._protocol

    def _parse(self, data: bytes) -> None:
        """Give wsproto C{data}, frames or part of one, and act on its events."""
        protocol = self._frameProtocol()
        if protocol.state is ConnectionState.CLOSED:
            return
        protocol.receive_data(data)
        for event in protocol.events():
            if isinstance(event, TextMessage):
                if protocol.state is ConnectionState.OPEN:  # not once closing
                    self.textReceived(event)
            elif isinstance(event, BytesMessage):
                self._refuseBinary()
            elif isinstance(event, Ping):
                if protocol.state is ConnectionState.OPEN:
                    self._sendRaw(protocol.send(event.response()))
            elif isinstance(event, CloseConnection):
                self._closeReceived(protocol, event)

    def textReceived(self, event: TextMessage) -> None:
        """Part of a text message, or all of it, that wsproto read."""
        messages = self._messages
        if messages is None or self._refused:
            return
        messages.add(event.data.encode())
        if event.message_finished:
            messages.end()

    def _refuseBinary(self) -> None:
        """A binary message: the WebSocket is closed (1003), once."""
        if self._refused:
            return
        self._refused = True
        self.factory.log.info(
            "client {clientId} sent a binary frame; closing",
            category="STATE",
            clientId=getattr(self._client, "clientId", "?"),
        )
        self._sendClose(UNSUPPORTED_DATA, "text frames only")

    def _closeReceived(self, protocol: Connection, event: CloseConnection) -> None:
        """
        The browser's close frame, answered if it came first: the closing
        handshake is done, and the server closes the connection.  Or no
        close frame came, but wsproto found bad input: the connection
        fails at once, told why by the code of a close frame (1002, 1007)
        whose answer is not waited for.
        """
        state = protocol.state
        if state is ConnectionState.REMOTE_CLOSING:
            self._sendRaw(protocol.send(event.response()))
        elif state is not ConnectionState.CLOSED:
            self._failed = True
            if state is ConnectionState.OPEN:
                self._sendRaw(protocol.send(CloseConnection(event.code)))
            self.transport.abortConnection()  # type: ignore[union-attr]
            return
        # The closing handshake is done: the server closes the connection
        # (a TLS transport closes only once it has no producer).
        self._clean = True
        self._startGrace()
        network = self.transport
        if not isinstance(network, tcp.Connection):
            network.unregisterProducer()  # type: ignore[union-attr]
        network.loseConnection()  # type: ignore[union-attr]

    def _handOn(self) -> None:
        """Hand the room client what is ready of its input."""
        messages = self._messages
        if messages is None:
            return
        received = messages.take()
        adapter = self._clientTransport
        if received and adapter is not None and not adapter.disconnecting:
            self._client.dataReceived(received)  # type: ignore[union-attr]

    # Output: the client's lines, and the network's pauses

    def sendFrames(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]

    def _sendRaw(self, data: bytes) -> None:
        """Send C{data} (control frames) after what is queued for the browser."""
        if self._sender is not None:
            self._sender.sendRaw(data)

    def closeSocket(self) -> None:
        self._sendClose(NORMAL_CLOSURE)

    def _sendClose(self, code: int, reason: str | None = None) -> None:
        """
        Send a close frame with C{code}; the browser has L{CLOSE_GRACE} to
        read what came before it and answer, as any client the room closes.
        """
        protocol = self._frameProtocol()
        if protocol.state is ConnectionState.OPEN:
            self._sendRaw(protocol.send(CloseConnection(code, reason)))
            self._startGrace()

    def _startGrace(self) -> None:
        if self._grace is None:
            self._grace = self.factory.clock.callLater(CLOSE_GRACE, self._graceOver)

    def _graceOver(self) -> None:
        self._grace = None
        self.transport.abortConnection()  # type: ignore[union-attr]

    def pauseProducing(self) -> None:
        if self._clientTransport is not None:
            self._clientTransport.outputPaused()

    def resumeProducing(self) -> None:
        if self._clientTransport is not None:
            self._clientTransport.outputResumed()

    def stopProducing(self) -> None:
        pass

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        The connection is gone: the messages that ended are handed on, the
        one in progress is not.  Of a long one, what the room client holds
        (at most a line's length, not relayed yet) is taken back from it.
        """
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        messages = self._messages
        if messages is not None:
            self._handOn()
            if messages.cut():
                client = self._client
                assert isinstance(client, ChatProtocol)
                held = client.clearLineBuffer()
                lines = held[: held.rfind(b"\n") + 1]
                if lines:
                    client.dataReceived(lines)
        if self._clientTransport is not None:
            self._clientTransport.connectionLost()
        if self._client is not None:
            # Once the closing handshake is done the server closes the
            # connection: for the log, that is a clean close.
            self._client.connectionLost(connectionDone if self._clean else reason)


class RoomSocketFactory:
    """
    Builds the WebSockets of a room's web clients.

    @ivar origins: the pages allowed to connect.
    @ivar frames: the frames built for what the room writes.
    """

    protocol = RoomSocket

    def __init__(self, origins: Origins, log: Logger, clock: IReactorTime) -> None:
        self.origins = origins
        self.log = log
        self.clock = clock
        self.frames = MessageFrames(clock)

    def buildProtocol(self, door: WebConnection) -> RoomSocket:
        """The WebSocket of C{door}'s connection."""
        socket = self.protocol()
        socket.factory = self
        socket.door = door
        return socket
