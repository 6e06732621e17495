"""
A WebSocket of the web door on a fake room, in memory.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.logger import Logger
from twisted.trial.unittest import SynchronousTestCase

from chat.core.limits import Limits
from chat.web.admission import WebConnection, WebFactory
from chat.web.site import webSite
from chat.web.socket import RoomSocket
from tests.support.fakes import FakeRoom, RecordingTransport
from tests.support.webclient import (
    serverFrames,
    upgradeRequest,
)


class SocketOnFakeRoom(SynchronousTestCase):
    """A WebSocket on a room of fake TCP clients, opened through the web door."""

    commands = False
    """Whether the room takes commands."""

    def setUp(self) -> None:
        self.fake = FakeRoom(
            maxLine=16,
            limits=Limits(sendqHard=1000, sendqSoft=1000),
            commands=self.commands,
        )
        self.door = WebFactory(
            webSite([], Logger(), self.fake.clock), self.fake.clock, self.fake.room
        )

    def accept(self) -> tuple[WebConnection, RecordingTransport]:
        """A connection through the web door, on port 8081 of 127.0.0.1."""
        network = self.fake.transport()
        network.hostAddr = IPv4Address("TCP", "127.0.0.1", 8081)
        connection = self.door.buildProtocol(network.getPeer())
        network.protocol = connection
        connection.makeConnection(network)
        return connection, network

    def openSocket(
        self, origin: str | None = None
    ) -> tuple[RoomSocket, RecordingTransport]:
        """
        A WebSocket through the web door, and its network connection; if
        it is refused, the request that was refused in its place.
        """
        connection, network = self.accept()
        connection.dataReceived(upgradeRequest(origin))
        socket = connection.wrappedProtocol
        if network.value().startswith(b"HTTP/1.1 101 "):
            assert isinstance(socket, RoomSocket)
        return cast(RoomSocket, socket), network

    def frames(self, network: StringTransport) -> list[tuple[int, bytes]]:
        self.fake.clock.advance(0)
        data = network.value()
        network.clear()
        if data.startswith(b"HTTP/"):
            head, _, data = data.partition(b"\r\n\r\n")
            self.assertIn(b" 101 ", head.split(b"\r\n")[0])
        return serverFrames(data)
