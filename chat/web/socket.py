"""
The WebSocket at C{/ws}: each one is a room client, a
L{chat.tcp.protocol.ChatProtocol} built by the room as for a TCP connection,
on a L{SocketTransport}.

One text frame carries one line without its C{\\n}, both ways.  A browser
is told what a TCP client is not (notices that start with C{server: }, as
every notice does): its own id when it enters the room, and who is there.

autobahn does the handshake, the control frames and the closing
handshake; the text frames that make up nearly all of the traffic are
read many at a time here, and written framed once per batch for every
browser that receives it.
"""

from __future__ import annotations

from typing import Any

from autobahn.twisted.websocket import (
    WebSocketServerFactory,
    WebSocketServerProtocol,
)
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet import tcp
from twisted.internet.interfaces import IPushProducer, IReactorTime, ISSLTransport
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chat.core.addresses import describePeer
from chat.core.lobby import CLOSE_GRACE
from chat.core.messages import Messages
from chat.tcp.protocol import ChatProtocol
from chat.web.admission import WebConnection
from chat.web.frames import FrameSender, Framing, TransportFrameSender
from chat.web.messages import (
    SUBPROTOCOL,
    MessageFrames,
    MessageSender,
    TransportMessageSender,
    sinceOf,
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
                break  # not the shortest encoding: autobahn refuses it
        stop = start + 4 + size
        if stop > end:
            break
        payload = unmask(data[start : start + 4], data[start + 4 : stop])
        if not payload.isascii():
            try:
                payload.decode()
            except UnicodeDecodeError:
                break  # autobahn closes the connection for it
        lines.append(payload)
        lines.append(b"\n")
        position = stop
    return position


class FrameBounds:
    """
    Where the frames end in what autobahn is given: whether it is between
    two frames, and so whether whole frames can be taken at the head of a
    read without it.
    """

    __slots__ = ("_head", "_rest")

    def __init__(self) -> None:
        self._head = b""
        self._rest = 0

    @property
    def between(self) -> bool:
        """Whether autobahn holds no part of a frame."""
        return not self._rest and not self._head

    def through(self, data: bytes, position: int) -> int:
        """
        Where, in C{data} from C{position} on, the frame autobahn is reading
        ends (or the next one, between frames); the end of C{data} if it
        does not end there.  Counted as given to autobahn.
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
        """Count C{data} from C{position} on as given to autobahn."""
        while position < len(data):
            position = self.through(data, position)


class MessageLines:
    """
    A browser's text messages as its room client reads them: each message
    a line, handed on once it has ended, valid.  One longer than a line
    (C{limit} bytes) is handed on as it comes instead, as a long TCP line
    is, so that nothing waits for the end of a message of any size.

    @ivar inMessage: whether a message has begun and not ended.
    """

    __slots__ = ("_limit", "_ready", "_message", "_held", "_long", "inMessage")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._ready: list[bytes] = []
        self._message: list[bytes] = []
        self._held = 0
        self._long = False
        self.inMessage = False

    def begin(self) -> None:
        """A message begins."""
        self.inMessage = True

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
        self.inMessage = False

    def take(self) -> bytes:
        """What is ready for the room client, and forget it."""
        ready = b"".join(self._ready)
        self._ready.clear()
        return ready


@implementer(IPushProducer)
class RoomSocket(WebSocketServerProtocol):
    """
    A browser's WebSocket, and through it a room client.

    Twisted Web hands the connection over after the upgrade request.  On a
    TCP connection the frames are sent on its socket directly, by a
    L{FrameSender}; on any other (TLS) they are written to it, and this
    protocol is its producer.  Either way, while the connection cannot take
    more, the client's send queue is paused and holds, counted, what the
    browser does not read.
    """

    factory: RoomSocketFactory
    door: WebConnection
    """The connection as the web door accepted it, in its place in the room."""
    _client: Protocol | None = None
    _clientTransport: SocketTransport | None = None
    _sender: Framing | None = None
    _speaks: tuple[Messages, int | None] | None = None
    """With C{chat.json} over TLS: the room's messages and the id of C{since}."""
    _messages: MessageLines | None = None
    _frames: FrameBounds | None = None
    _preamble = b""
    _refused = False

    def connectionMade(self) -> None:
        super().connectionMade()
        network: Any = self.transport
        network.unregisterProducer()  # Twisted Web's channel's, until now
        if isinstance(network, tcp.Connection):
            self._sender = FrameSender(network, self.factory.frames)
        else:
            network.registerProducer(self, True)

    def onConnect(self, request: ConnectionRequest) -> str | None:
        secure = ISSLTransport.providedBy(self.transport)
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if not self.factory.origins.allows(origin, host, secure):
            self.factory.log.warn(
                "turned away {peer} (web): origin {origin!r} is not allowed",
                category="STATE",
                peer=describePeer(self.transport),  # type: ignore[arg-type]
                origin=origin,
            )
            raise ConnectionDeny(ConnectionDeny.FORBIDDEN, "origin not allowed")
        return self._subprotocol(request)

    def _subprotocol(self, request: ConnectionRequest) -> str | None:
        """
        C{chat.json} when the page asks for it and the room makes messages
        (chat mode): the browser's send queue is one of messages, made
        before the handshake's answer is sent through it (see L{sinceOf}).
        Without it, the socket carries lines.
        """
        room = self.door.factory.room
        messages = room.messages if room is not None else None
        if messages is None or SUBPROTOCOL not in request.protocols:
            return None
        since = sinceOf(request.params, self.factory.log, self.transport)
        network = self.transport
        if isinstance(network, tcp.Connection):
            self._sender = MessageSender(network, self.factory.frames, messages, since)
        else:
            self._speaks = (messages, since)
        return SUBPROTOCOL

    def onOpen(self) -> None:
        # The handshake's text is not needed for the connection's life.
        self.http_headers, self.http_request_data, self.http_response_data = {}, b"", ""
        client = self.door.enter()
        client.via = "web"
        client.welcomed = True
        adapter = self._clientTransport = SocketTransport(self, self.transport)
        sender = self._sender
        if sender is None:
            frames = self.factory.frames
            if self._speaks is not None:
                sender = TransportMessageSender(adapter, frames, *self._speaks)
            else:
                sender = TransportFrameSender(adapter, frames)
            self._sender = sender
        client.queueFor = lambda transport: sender
        self._client = client
        client.makeConnection(adapter)
        self._frames = FrameBounds()
        if isinstance(client, ChatProtocol):
            self._messages = MessageLines(client.maxLine)

    # Input: the messages that have ended, handed on once a network read

    def dataReceived(self, data: bytes) -> None:
        """
        Take the whole, unfragmented, masked text frames here, many at a
        time, while autobahn is between frames and messages; give it the
        rest (control frames, fragments, a frame not all here, bad input):
        a frame at a time, to take the frames after it here again, or all
        of it while it reads a message.

        autobahn parses one frame a call, several Python calls a frame, and
        copies the rest of its buffer after each: a browser's lines, one
        frame each, arrive many to a network read.
        """
        frames, messages = self._frames, self._messages
        if frames is None:
            self._handshake(data)
        elif messages is None:
            super().dataReceived(data)
        else:
            position, end = 0, len(data)
            while position < end:
                if self._refused or messages.inMessage or self.is_closed.called:
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
                super().dataReceived(data[position:stop])
                position = stop
        self._handOn()

    def _handshake(self, data: bytes) -> None:
        """
        Give autobahn C{data}, part of the upgrade request; once the socket
        is open, follow the frames autobahn read behind the request.
        """
        self._preamble += data
        super().dataReceived(data)
        if self._frames is not None:
            request, self._preamble = self._preamble, b""
            self._frames.follow(request, request.index(b"\r\n\r\n") + 4)

    def _handOn(self) -> None:
        """Hand the room client what is ready of its input."""
        messages = self._messages
        if messages is None:
            return
        received = messages.take()
        adapter = self._clientTransport
        if received and adapter is not None and not adapter.disconnecting:
            self._client.dataReceived(received)  # type: ignore[union-attr]

    def onMessageBegin(self, isBinary: bool) -> None:
        if self._messages is not None:
            self._messages.begin()
        if isBinary and not self._refused:
            self._refused = True
            self.factory.log.info(
                "client {clientId} sent a binary frame; closing",
                category="STATE",
                clientId=getattr(self._client, "clientId", "?"),
            )
            self.sendCloseFrame(UNSUPPORTED_DATA, b"text frames only")

    def onMessageFrameBegin(self, length: int) -> None:
        pass

    def onMessageFrameData(self, payload: bytes) -> None:
        if self._messages is not None and not self._refused:
            self._messages.add(payload)

    def onMessageFrameEnd(self) -> None:
        pass

    def onMessageEnd(self) -> None:
        if self._messages is not None and not self._refused:
            self._messages.end()

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        """
        The connection is gone: the messages that ended are handed on, the
        one in progress is not.  Of a long one, what the room client holds
        (at most a line's length, not relayed yet) is taken back from it.
        """
        messages = self._messages
        if messages is None:
            return
        self._handOn()
        if messages.cut():
            client = self._client
            assert isinstance(client, ChatProtocol)
            held = client.clearLineBuffer()
            lines = held[: held.rfind(b"\n") + 1]
            if lines:
                client.dataReceived(lines)

    # Output: the client's lines, and the network's pauses

    def sendFrames(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]

    def sendData(
        self, data: bytes, sync: bool = False, chopsize: int | None = None
    ) -> None:
        """
        Everything autobahn sends (the handshake's answer, control frames)
        goes the same way as the lines, after them.
        """
        if sync or chopsize:
            super().sendData(data, sync, chopsize)
        else:
            self._write(data)

    def _write(self, data: bytes) -> None:
        sender = self._sender
        if sender is None:
            # Straight to the connection: autobahn's sendData() would also
            # format a debug message each call, whatever the level.
            self.transport.write(data)  # type: ignore[union-attr]
            return
        # Sent before what Twisted Web may still hold of an earlier answer
        # on this connection: only a client that pipelined its upgrade
        # request behind another one, and does not read, could see that.
        sender.sendRaw(data)

    def closeSocket(self) -> None:
        self.sendClose(NORMAL_CLOSURE)

    def pauseProducing(self) -> None:
        if self._clientTransport is not None:
            self._clientTransport.outputPaused()

    def resumeProducing(self) -> None:
        if self._clientTransport is not None:
            self._clientTransport.outputResumed()

    def stopProducing(self) -> None:
        pass

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        if self._clientTransport is not None:
            self._clientTransport.connectionLost()
        if self._client is not None:
            # autobahn aborts the connection once the closing handshake is
            # done: for the log, that is a clean close.
            self._client.connectionLost(connectionDone if self.wasClean else reason)


class RoomSocketFactory(WebSocketServerFactory):
    """
    Builds the WebSockets of a room's web clients.

    @ivar origins: the pages allowed to connect.
    @ivar frames: the frames built for what the room writes.
    """

    protocol = RoomSocket  # type: ignore[assignment]

    def __init__(
        self,
        origins: Origins,
        log: Logger,
        clock: IReactorTime,
    ) -> None:
        super().__init__()
        # A plain GET of /ws is refused rather than shown a status page.
        # A browser told to close gets as long to read what comes before
        # the close frame as any client the room closes (autobahn's own
        # wait, one second from the close frame being queued, is shorter).
        self.setProtocolOptions(webStatus=False, closeHandshakeTimeout=CLOSE_GRACE)
        self.origins = origins
        self.log = log
        self.frames = MessageFrames(self, clock)
