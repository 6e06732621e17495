"""
A blocking WebSocket client for the tests, written against RFC 6455 by
hand so that a test controls every byte it sends: frames of any size or
kind, with or without an C{Origin}.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import ssl
import struct

from tests.support.live import DEADLINE, Server, waitFor

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA

WEB = ("--web", "tcp:0:interface=127.0.0.1")


def webPort(server: Server) -> int:
    """The port the server's web site listens on, from its log."""
    found = waitFor(
        lambda: re.search(
            r"listening on (?:tcp|ssl) 127\.0\.0\.1:(\d+) \(web\)", server.logText()
        ),
        "the web site to log its port",
    )
    return int(found.group(1))


class HandshakeRefusedError(Exception):
    """The server answered the upgrade request with something else."""

    def __init__(self, status: bytes) -> None:
        super().__init__(status.decode(errors="replace"))
        self.status = status


def frame(
    opcode: int, payload: bytes, fin: bool = True, mask: bytes | None = None
) -> bytes:
    """A masked client frame, with a random C{mask} unless given."""
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    mask = os.urandom(4) if mask is None else mask
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return head + mask + masked


class WebClient:
    """A WebSocket to C{/ws} of the web site on C{port}."""

    def __init__(
        self,
        port: int,
        origin: str | None = None,
        path: str = "/ws",
        receiveBuffer: int | None = None,
        context: ssl.SSLContext | None = None,
        early: bytes = b"",
        protocol: str | None = None,
    ) -> None:
        """
        C{early}: bytes sent right behind the upgrade request, in one write;
        C{protocol}: the subprotocol asked for, if any.
        """
        self.sock = socket.socket()
        self.sock.settimeout(DEADLINE)
        if receiveBuffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receiveBuffer)
        self.sock.connect(("127.0.0.1", port))
        if context is not None:
            self.sock = context.wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.buffer = b""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        if protocol is not None:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + early)
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.position = 0
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            self.sock.close()
            raise HandshakeRefusedError(status)

    def send(self, text: str | bytes, opcode: int = TEXT) -> None:
        payload = text.encode() if isinstance(text, str) else text
        self.sock.sendall(frame(opcode, payload))

    def _read(self, count: int) -> bytes:
        """The next C{count} bytes: read from C{buffer} at C{position}."""
        while len(self.buffer) - self.position < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer = self.buffer[self.position :] + chunk
            self.position = 0
        start = self.position
        self.position += count
        return self.buffer[start : self.position]

    def receiveFrame(self) -> tuple[int, bytes]:
        """The next frame from the server: its opcode and payload."""
        first, second = self._read(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._read(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._read(8))
        return first & 0x0F, self._read(size)

    def receive(self) -> str:
        """The next text message; pings are answered on the way."""
        while True:
            opcode, payload = self.receiveFrame()
            if opcode == TEXT:
                return payload.decode()
            if opcode == PING:
                self.send(payload, PONG)
            elif opcode == CLOSE:
                raise ConnectionError(f"closed by the server: {payload!r}")

    def expect(self, *texts: str | bytes) -> None:
        """
        The next messages are exactly C{texts}: each C{str} one message,
        each C{bytes} lines as a TCP client gets them, one message a line.
        """
        for text in texts:
            if isinstance(text, bytes):
                self.expect(*text.decode(errors="replace").split("\n")[:-1])
                continue
            got = self.receive()
            assert got == text, f"expected {text!r}, got {got!r}"

    def closeCode(self) -> int:
        """
        Read to the server's close frame and answer it, as a browser does;
        its status code.
        """
        while True:
            opcode, payload = self.receiveFrame()
            if opcode == CLOSE:
                with contextlib.suppress(OSError):  # the server may be gone
                    self.send(payload[:2], CLOSE)
                return int(struct.unpack("!H", payload[:2])[0])

    def close(self) -> None:
        self.sock.close()


def upgradeRequest(
    origin: str | None = None,
    host: str = "127.0.0.1:8081",
    target: str = "/ws",
    protocol: str | None = None,
) -> bytes:
    """
    A browser's request to open the WebSocket at C{target} (C{/ws}, maybe
    with a query), asking for the subprotocol C{protocol} if given.
    """
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    if protocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def serverFrames(data: bytes) -> list[tuple[int, bytes]]:
    """The frames in C{data}, as a server sends them (unmasked, whole)."""
    frames = []
    while data:
        size, start = data[1] & 0x7F, 2
        if size == 126:
            (size,), start = struct.unpack("!H", data[2:4]), 4
        elif size == 127:
            (size,), start = struct.unpack("!Q", data[2:10]), 10
        frames.append((data[0] & 0x0F, data[start : start + size]))
        data = data[start + size :]
    return frames
