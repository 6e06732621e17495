"""
A benchmark connection over a WebSocket, as a browser joins the room
through C{--web}: each text message received is a line, each line sent a
text message.

The frames are read and written here rather than through a WebSocket
library: a load generator must cost less per message than the server it
measures, and a general library's per-frame work (state, statistics,
UTF-8 validation) would make the load generator the bottleneck.
"""

from __future__ import annotations

import base64
import os
import random
import struct
from collections.abc import Iterable
from typing import Any

from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def clientFrame(opcode: int, payload: bytes) -> bytes:
    """A frame from a client: masked, as RFC 6455 requires."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    key = random.getrandbits(32).to_bytes(4, "big")
    keys = (key * (size // 4 + 1))[:size]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(keys, "big")
    return head + key + masked.to_bytes(size, "big")


class LineSocket(Protocol):
    """
    The WebSocket under a benchmark connection (C{connection}), which sees
    the lines as a TCP connection's bytes: this is its transport.
    """

    def __init__(self, connection: Protocol, host: str, port: int) -> None:
        self._connection = connection
        self._host = f"{host}:{port}"
        self._buffer = b""
        self._open = False

    def connectionMade(self) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(  # type: ignore[union-attr]
            (
                f"GET /ws HTTP/1.1\r\nHost: {self._host}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def dataReceived(self, data: bytes) -> None:
        buffer = self._buffer + data
        if not self._open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self._buffer = buffer
                return
            if b" 101 " not in buffer[: buffer.find(b"\r\n")]:
                self.transport.loseConnection()  # type: ignore[union-attr]
                return
            buffer = buffer[end + 4 :]
            self._open = True
            self._connection.makeConnection(self)
        lines, self._buffer = self._messages(buffer)
        if lines:
            # Every message of one network read, handed on at once, as a
            # TCP connection receives the lines.
            self._connection.dataReceived(b"\n".join(lines) + b"\n")

    def _messages(self, buffer: bytes) -> tuple[list[bytes], bytes]:
        """The text messages of the whole frames in C{buffer}, and the rest."""
        lines: list[bytes] = []
        append = lines.append
        position, end = 0, len(buffer)
        while end - position >= 2:
            size = buffer[position + 1]
            if buffer[position] == 0x81 and size < 126:  # most: a short line
                stop = position + 2 + size
                if stop > end:
                    break
                append(buffer[position + 2 : stop])
                position = stop
                continue
            stop = self._otherFrame(buffer, position, append)
            if stop < 0:
                break
            position = stop
        return lines, buffer[position:]

    def _otherFrame(self, buffer: bytes, position: int, append: Any) -> int:
        """
        Take the frame at C{position}, any but a short text frame; where it
        ends, or -1 if it is not all in C{buffer}.
        """
        opcode, size = buffer[position] & 0x0F, buffer[position + 1] & 0x7F
        start = position + 2 + {126: 2, 127: 8}.get(size, 0)
        if start > len(buffer):
            return -1
        if size == 126:
            (size,) = struct.unpack_from("!H", buffer, position + 2)
        elif size == 127:
            (size,) = struct.unpack_from("!Q", buffer, position + 2)
        stop = start + size
        if stop > len(buffer):
            return -1
        payload = buffer[start:stop]
        if opcode == TEXT:
            append(payload)
        elif opcode == PING:
            self.transport.write(clientFrame(PONG, payload))  # type: ignore[union-attr]
        elif opcode == CLOSE:
            self.transport.loseConnection()  # type: ignore[union-attr]
        return stop

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._open:
            self._connection.connectionLost(reason)

    # What the connection calls on its transport

    def write(self, data: bytes) -> None:
        """Send the lines of C{data}, one message a line."""
        self.transport.write(  # type: ignore[union-attr]
            b"".join(clientFrame(TEXT, line) for line in data.split(b"\n")[:-1])
        )

    def writeSequence(self, data: Iterable[bytes]) -> None:
        self.write(b"".join(data))

    def setTcpNoDelay(self, enabled: bool) -> None:
        transport: Any = self.transport
        transport.setTcpNoDelay(enabled)

    def loseConnection(self) -> None:
        self.transport.write(clientFrame(CLOSE, struct.pack("!H", 1000)))  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]


def overWebSocket(connection: Protocol, host: str, port: int) -> LineSocket:
    """The protocol that carries C{connection} over C{ws://HOST:PORT/ws}."""
    return LineSocket(connection, host, port)
