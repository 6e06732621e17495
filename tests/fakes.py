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

from chat.limits import Limits
from chat.protocol import ChatProtocol
from chat.room import ChatRoom


class RecordingTransport(StringTransport):
    """
    A StringTransport that keeps every object written, in order, and
    drains like a real one: on the next reactor iteration, its pull
    producer is asked for more, unless C{stalled} (a client not reading).
    """

    def __init__(self, port: int, clock: Clock) -> None:
        super().__init__(peerAddress=IPv4Address("TCP", "127.0.0.1", port))
        self.writes: list[bytes] = []
        self.aborted = False
        self.stalled = False
        self._clock = clock

    def registerProducer(self, producer: object, streaming: bool) -> None:
        super().registerProducer(producer, streaming)
        if not streaming:
            self._clock.callLater(0, self.drain)

    def drain(self) -> None:
        """Everything written has been sent: ask the pull producer for more."""
        if self.producer is not None and not self.streaming and not self.stalled:
            self.producer.resumeProducing()

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        super().write(data)

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


class FakeRoom:
    """A room on fake transports, with its log events kept in a list."""

    def __init__(self, maxLine: int = 65536, limits: Limits | None = None) -> None:
        self.events: list[LogEvent] = []
        observer = cast(ILogObserver, self.events.append)
        self.clock = Clock()
        self.room = ChatRoom(Logger(observer=observer), self.clock, maxLine, limits)
        self._ports = iter(range(40000, 50000))

    def transport(self) -> RecordingTransport:
        """A transport from 127.0.0.1 and a port of its own."""
        return RecordingTransport(next(self._ports), self.clock)

    def connect(self) -> tuple[ChatProtocol, RecordingTransport]:
        transport = self.transport()
        client = self.room.buildProtocol(transport.getPeer())
        assert isinstance(client, ChatProtocol)
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
