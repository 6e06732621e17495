"""
The text frames the web door sends: the lines the room writes made
frames once in a reactor iteration, shared by every browser that is sent
them, and the send queues that make them as they are written.
"""

from __future__ import annotations

from twisted.internet import tcp
from twisted.internet.interfaces import IReactorTime

from chat.core.sendq import Chunk, SendQueue, SocketQueue, TransportQueue
from chat.web.transport import SocketTransport


class FrameCache:
    """
    The text frames for what the room writes, built once in a reactor
    iteration.  The room hands every client that receives the whole of a
    round's batch the same bytes object: every browser among them is sent
    the same frames, built once.  The others (those who spoke in the round)
    each receive most of the same lines: each line is framed once.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self._clock = clock
        self._due = False
        self._built: dict[int, tuple[bytes, bytes]] = {}
        self._lines: dict[bytes, bytes] = {}

    def frames(self, data: bytes) -> bytes:
        """The frames of C{data}, complete lines, one frame a line."""
        built = self._built.get(id(data))
        if built is not None:
            return built[1]
        self._keep()
        lines = self._lines
        parts = []
        for line in textLines(data):
            framed = lines.get(line)
            if framed is None:
                framed = lines[line] = self.frame(line)
            parts.append(framed)
        frames = b"".join(parts)
        self._built[id(data)] = (data, frames)
        return frames

    def frame(self, payload: bytes) -> bytes:
        """The text frame of C{payload}, UTF-8."""
        return textFrame(payload)

    def _keep(self) -> None:
        """What is built is kept until this reactor iteration is over."""
        if not self._due:
            self._due = True
            self._clock.callLater(0, self._forget)

    def _forget(self) -> None:
        """A new iteration: what was built for the last one is not needed."""
        self._due = False
        self._built.clear()
        self._lines.clear()


def textFrame(payload: bytes) -> bytes:
    """
    The text frame a server sends of C{payload}, UTF-8: final, unmasked,
    uncompressed, its length in the shortest form.
    """
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


def textLines(data: bytes) -> list[bytes]:
    """
    The lines of C{data} (each ending with C{\\n}) without their C{\\n},
    as UTF-8: bytes that are not are replaced with U+FFFD.
    """
    try:
        data.decode()
    except UnicodeDecodeError:
        lines = [line.encode() for line in data.decode(errors="replace").split("\n")]
    else:
        lines = data.split(b"\n")
    del lines[-1]
    return lines


class Framing(SendQueue):
    """
    The send queue of a browser: the lines the room writes are made frames
    as they are written, and held with what the WebSocket sends of its own
    (L{sendRaw}), in order, all counted against the SendQ limits.
    """

    __slots__ = ()
    _frames: FrameCache

    def write(self, data: Chunk) -> None:
        """Send C{data}, complete lines, one frame a line."""
        if not isinstance(data, bytes):
            data = bytes(data)  # the rest of a history block
        super().write(self._frames.frames(data))

    def sendRaw(self, data: bytes) -> None:
        """Send C{data} as it is: the handshake's answer, control frames."""
        super().write(data)


class FrameSender(Framing, SocketQueue):
    """
    The send queue of a browser on a WebSocket over TCP: frames go out on
    the socket directly, as TCP clients' lines do (see L{chat.core.sendq}).
    """

    def __init__(self, connection: tcp.Connection, frames: FrameCache) -> None:
        super().__init__(connection)
        self._frames = frames


class TransportFrameSender(Framing, TransportQueue):
    """
    The send queue of a browser on a WebSocket over any other connection
    (TLS): frames are written to the client's L{SocketTransport}, which
    hands them on to the connection.
    """

    def __init__(self, transport: SocketTransport, frames: FrameCache) -> None:
        super().__init__(transport)
        self._frames = frames
