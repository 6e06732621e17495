"""
The C{chat.json} subprotocol of the WebSocket (chat mode): each text frame
the server sends is one JSON object, C{{"messages": [...]}} with one or
more messages, or C{{"caughtUp": {"since": ID, "complete": BOOL}}} before
the messages a returning page missed.  What the page sends is unchanged,
a line a frame.

Names and texts are bytes as the clients sent them: they are decoded as
UTF-8 with U+FFFD for what is not, so every frame is valid JSON.  A
message is rendered once in a reactor iteration, and the list of a whole
round's messages once for every browser that is sent all of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from twisted.internet import tcp
from twisted.internet.interfaces import IReactorTime, ITransport
from twisted.logger import Logger
from zope.interface import implementer

from chat.core.addresses import describePeer
from chat.core.interfaces import IMessageQueue
from chat.core.messages import Message, Messages
from chat.core.sendq import Chunk
from chat.web.frames import FrameCache, FrameSender, Framing, TransportFrameSender
from chat.web.transport import SocketTransport

SUBPROTOCOL = "chat.json"
"""The subprotocol a page asks for to be sent messages."""

SINCE_DIGITS = 18
"""The most digits of C{since}: ids are below 10**18."""


class TurnedAwayError(Exception):
    """
    A request to open the WebSocket is turned away: answered with
    C{status}, saying C{why}.
    """

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why


def sinceOf(
    params: dict[str, list[str]], log: Logger, transport: ITransport | None
) -> int | None:
    """
    The id given as C{since} in the query of a request to open the
    WebSocket (its C{params}, as L{urllib.parse.parse_qs} makes them), if
    any.

    @raise TurnedAwayError: it is not one number of digits, once (C{400},
        saying why; logged with C{transport}'s peer).
    """
    values = params.get("since")
    if values is None:
        return None
    value = values[0]
    if len(values) != 1:
        why = "since given more than once"
    elif len(value) > SINCE_DIGITS:
        why = f"since longer than {SINCE_DIGITS} digits"
    elif not (value.isascii() and value.isdigit()):
        why = "since is not the id of a message (digits)"
    else:
        return int(value)
    log.info(
        "turned away {peer} (web): {why}",
        category="STATE",
        peer=describePeer(transport),  # type: ignore[arg-type]
        why=why,
    )
    raise TurnedAwayError(400, why)


def messageJSON(message: Message) -> str:
    """C{message} as a JSON object."""
    return json.dumps(
        {
            "id": message.id,
            "time": message.time,
            "kind": message.kind,
            "from": {
                "id": message.senderId,
                "name": message.senderName.decode(errors="replace"),
            },
            "text": message.text.decode(errors="replace"),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


class MessageFrames(FrameCache):
    """
    The frames of the lines (see L{FrameCache}) and of the messages the
    room writes, built once in a reactor iteration: each message is
    rendered once, and a list written to several browsers (a whole round's)
    is framed once.
    """

    def __init__(self, clock: IReactorTime) -> None:
        super().__init__(clock)
        self._rendered: dict[Message, str] = {}
        self._lists: dict[int, tuple[Sequence[Message], bytes]] = {}

    def messageFrame(self, messages: Sequence[Message]) -> bytes:
        """The frame of C{{"messages": [...]}} for C{messages}."""
        built = self._lists.get(id(messages))
        if built is not None:
            return built[1]
        self._keep()
        rendered = self._rendered
        parts = []
        for message in messages:
            part = rendered.get(message)
            if part is None:
                part = rendered[message] = messageJSON(message)
            parts.append(part)
        payload = '{"messages":[' + ",".join(parts) + "]}"
        frame = self.frame(payload.encode())
        self._lists[id(messages)] = (messages, frame)
        return frame

    def caughtUpFrame(self, since: int, complete: bool) -> bytes:
        """The frame that says the messages after C{since} follow."""
        caughtUp = {"caughtUp": {"since": since, "complete": complete}}
        return self.frame(json.dumps(caughtUp, separators=(",", ":")).encode())

    def _forget(self) -> None:
        super()._forget()
        self._rendered.clear()
        self._lists.clear()


@implementer(IMessageQueue)
class MessageFraming(Framing):
    """
    The send queue of a browser that speaks C{chat.json}: it is sent
    messages.  What is written to it as bytes (notices to a client not in
    the room yet, or on its way out) is made messages as it is written.
    """

    __slots__ = ()
    since: int | None
    _frames: MessageFrames
    _messages: Messages

    def write(self, data: Chunk) -> None:
        told = self._messages.told(bytes(data))
        if told:
            self.writeMessages(told)

    def writeMessages(self, messages: Sequence[Message]) -> None:
        self.sendRaw(self._frames.messageFrame(messages))

    def writeCaughtUp(self, since: int, complete: bool) -> None:
        self.sendRaw(self._frames.caughtUpFrame(since, complete))


class MessageSender(MessageFraming, FrameSender):
    """A browser's queue of messages, on a WebSocket over TCP."""

    def __init__(
        self,
        connection: tcp.Connection,
        frames: MessageFrames,
        messages: Messages,
        since: int | None,
    ) -> None:
        super().__init__(connection, frames)
        self._messages = messages
        self.since = since


class TransportMessageSender(MessageFraming, TransportFrameSender):
    """A browser's queue of messages, on a WebSocket over any other connection."""

    def __init__(
        self,
        transport: SocketTransport,
        frames: MessageFrames,
        messages: Messages,
        since: int | None,
    ) -> None:
        super().__init__(transport, frames)
        self._messages = messages
        self.since = since
