"""
In-memory clients for the room: real protocols on StringTransports.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import ILogObserver, LogEvent, Logger
from twisted.python.failure import Failure

from chat.protocol import ChatProtocol
from chat.room import ChatRoom


class RecordingTransport(StringTransport):
    """A StringTransport that also keeps every object written, in order."""

    def __init__(self, port: int) -> None:
        super().__init__(peerAddress=IPv4Address("TCP", "127.0.0.1", port))
        self.writes: list[bytes] = []
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        super().write(data)

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


class FakeRoom:
    """A room on fake transports, with its log events kept in a list."""

    def __init__(self, maxLine: int = 65536) -> None:
        self.events: list[LogEvent] = []
        observer = cast(ILogObserver, self.events.append)
        self.clock = Clock()
        self.room = ChatRoom(Logger(observer=observer), self.clock, maxLine)
        self._ports = iter(range(40000, 50000))

    def connect(self) -> tuple[ChatProtocol, RecordingTransport]:
        transport = RecordingTransport(next(self._ports))
        client = self.room.buildProtocol(transport.getPeer())
        client.makeConnection(transport)
        return client, transport

    @staticmethod
    def disconnect(client: ChatProtocol, why: Exception | None = None) -> None:
        client.connectionLost(Failure(why or ConnectionDone()))

    def received(self, transport: StringTransport) -> bytes:
        """
        Everything sent to C{transport} once this reactor iteration is over,
        and forget it.
        """
        self.clock.advance(0)
        data = transport.value()
        transport.clear()
        return data
