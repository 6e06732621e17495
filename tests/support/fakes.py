"""
In-memory clients for the room: real protocols on StringTransports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectionAborted, ConnectionDone
from twisted.internet.interfaces import IProducer, IPushProducer
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import ILogObserver, LogEvent, Logger
from twisted.python.failure import Failure

from chat.app.tap import chatStages
from chat.core import wire
from chat.core.interfaces import IClient, IMetrics, IPeers
from chat.core.limits import Limits
from chat.core.metrics import NO_METRICS
from chat.core.peers import LocalPeers
from chat.core.room import ChatRoom
from chat.people.auth import Gatekeeper
from chat.people.history import historyFor
from chat.tcp.door import TCPDoor
from chat.tcp.protocol import ChatProtocol


class RecordingTransport(StringTransport):
    """
    A StringTransport that keeps every object written, in order, and whose
    client may stop reading (C{stalled}): its producer is then asked to
    pause, as a real transport does once its buffer is full.
    """

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        peer = (IPv6Address if ":" in host else IPv4Address)("TCP", host, port)
        super().__init__(peerAddress=peer)
        self.writes: list[bytes] = []
        self.aborted = False
        self.lost = False
        self.protocol: Protocol
        self._stalled = False

    @property
    def stalled(self) -> bool:
        return self._stalled

    @stalled.setter
    def stalled(self, stalled: bool) -> None:
        self._stalled = stalled
        if self.producer is not None:
            if stalled:
                self.producer.pauseProducing()
            else:
                self.producer.resumeProducing()

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """A client that does not read pauses its producer from the start."""
        super().registerProducer(producer, streaming)
        if self._stalled and streaming:
            cast(IPushProducer, producer).pauseProducing()

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        super().write(data)

    def abortConnection(self) -> None:
        """Closed at once, as a real transport is, without writing more."""
        self.aborted = True
        super().abortConnection()
        self.lose(ConnectionAborted())

    def lose(self, why: Exception) -> None:
        """The connection is gone, for C{why}: tell the protocol, once."""
        if not self.lost:
            self.lost = True
            self.protocol.connectionLost(Failure(why))


class FakeRoom:
    """A room on fake transports, with its log events kept in a list."""

    def __init__(
        self,
        maxLine: int = 65536,
        limits: Limits | None = None,
        peers: IPeers | None = None,
        history: int = 0,
        commands: bool = False,
        gatekeeper: Callable[[Clock, Logger], Gatekeeper] | None = None,
        metrics: IMetrics = NO_METRICS,
    ) -> None:
        self.events: list[LogEvent] = []
        observer = cast(ILogObserver, self.events.append)
        self.clock = Clock()
        log = Logger(observer=observer)
        peers = peers or LocalPeers()
        self.room = ChatRoom(log, self.clock, peers, maxLine, limits, metrics=metrics)
        self.door = self.room.door = TCPDoor(self.room, self.clock)
        self.room.stages = chatStages(
            self.room,
            history=historyFor(history, limits or Limits()) if history else None,
            commands=commands,
            gatekeeper=gatekeeper(self.clock, log) if gatekeeper else None,
        )
        self._ports = iter(range(40000, 50000))
        self._prompted = gatekeeper is not None

    def transport(self, host: str = "127.0.0.1") -> RecordingTransport:
        """A transport from C{host} and a port of its own."""
        return RecordingTransport(next(self._ports), host)

    def connect(
        self, host: str = "127.0.0.1", stalled: bool = False
    ) -> tuple[ChatProtocol, RecordingTransport]:
        """
        A client, in the room; with C{stalled}, one that never reads.  With
        logins, it has been told to log in, and that is forgotten (it stays
        in C{transport.writes}).
        """
        transport = self.transport(host)
        transport.stalled = stalled
        client = self.room.door.buildProtocol(transport.getPeer())
        assert isinstance(client, ChatProtocol)
        transport.protocol = client
        client.makeConnection(transport)
        if self._prompted and not stalled:
            assert transport.value() == wire.LOGIN_PROMPT
            transport.clear()
        return client, transport

    @staticmethod
    def disconnect(client: IClient, why: Exception | None = None) -> None:
        transport = client.transport
        assert isinstance(transport, RecordingTransport)
        transport.lose(why or ConnectionDone())

    def received(self, transport: StringTransport) -> bytes:
        """
        Everything sent to C{transport} once this reactor iteration is over,
        and forget it.
        """
        self.clock.advance(0)
        data = transport.value()
        transport.clear()
        return data
