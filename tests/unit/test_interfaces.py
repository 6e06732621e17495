"""
Every implementation of a seam of the server provides its interfaces: each
is checked with C{verifyObject} on a live instance, and every class of the
server that declares one of the server's interfaces is among those checked.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import shutil
import socket
import tempfile
from collections.abc import Iterator
from typing import cast

import bcrypt
from twisted.internet import tcp
from twisted.internet.interfaces import (
    IConsumer,
    IPullProducer,
    IPushProducer,
    ITransport,
)
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import Logger
from zope.interface import Interface, implementedBy
from zope.interface.verify import verifyObject

import chat
from chat.app.prometheus import PrometheusMetrics
from chat.cluster.peers import ClusterPeers, _NoRoom
from chat.core import interfaces
from chat.core.messages import Messages
from chat.core.metrics import NO_METRICS
from chat.core.peers import LocalPeers
from chat.core.sendq import sendQueueFor
from chat.people import htpasswd
from chat.people.auth import Gatekeeper, PasswordFileChecker, passwordPortal
from chat.people.commands import Commands
from chat.people.history import History
from chat.people.messages import MessageRecord
from chat.people.replay import Replay
from chat.tcp.protocol import ChatProtocol
from chat.web.frames import FrameSender, TransportFrameSender
from chat.web.messages import MessageFrames, MessageSender, TransportMessageSender
from chat.web.transport import SocketTransport
from tests.support.clusterfakes import Harness
from tests.support.fakes import FakeRoom
from tests.support.websocketfakes import SocketOnFakeRoom

SEAMS = [
    value
    for value in vars(interfaces).values()
    if isinstance(value, type(Interface)) and value.__module__ == interfaces.__name__
]
"""The server's own interfaces."""


def serverClasses() -> Iterator[type]:
    """Every class defined in the server's modules."""
    for module in pkgutil.walk_packages(chat.__path__, chat.__name__ + "."):
        loaded = importlib.import_module(module.name)
        for _, value in inspect.getmembers(loaded, inspect.isclass):
            if value.__module__ == loaded.__name__:
                yield value


class VerifiedTests(SocketOnFakeRoom):
    """Each implementation, as the server makes it, provides its interfaces."""

    def made(self) -> list[tuple[object, list[type[Interface]]]]:
        """One of each implementation, with the interfaces it declares."""
        tcpClient, _ = self.fake.connect()
        webSocket, _ = self.openSocket()
        webClient = self.fake.room.clients[1]
        self.assertIsInstance(webClient, ChatProtocol)
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        connection = tcp.Connection(ours, Protocol())
        harness = Harness()
        self.assertIsInstance(harness.peers, ClusterPeers)
        frames = webSocket.factory.frames
        self.assertIsInstance(frames, MessageFrames)
        messages = Messages(Clock(), MessageRecord())
        return [
            (self.fake.room, [interfaces.IClientHub, interfaces.ILocalRoom]),
            (self.fake.door, [interfaces.IDoor]),
            *self.chatStages(),
            (tcpClient, [interfaces.IClient, IPushProducer]),
            (tcpClient.sendq, [interfaces.ISendQueue, IPushProducer]),
            (tcpClient.gate, [interfaces.IReadGate]),
            (webClient, [interfaces.IClient, IPushProducer]),
            (webClient.transport, [ITransport, IPushProducer, IConsumer]),
            (webSocket, [IPushProducer]),
            (sendQueueFor(connection), [interfaces.ISendQueue, IPullProducer]),
            (
                FrameSender(connection, webSocket.factory.frames),
                [interfaces.ISendQueue, IPullProducer],
            ),
            (
                TransportFrameSender(
                    cast(SocketTransport, StringTransport()),
                    webSocket.factory.frames,
                ),
                [interfaces.ISendQueue, IPushProducer],
            ),
            (
                MessageSender(connection, frames, messages, None),
                [interfaces.IMessageQueue, IPullProducer],
            ),
            (
                TransportMessageSender(
                    cast(SocketTransport, StringTransport()), frames, messages, 7
                ),
                [interfaces.IMessageQueue, IPushProducer],
            ),
            (History(10), [interfaces.IHistory]),
            (MessageRecord(), [interfaces.IMessageRecord]),
            (LocalPeers(), [interfaces.IPeers]),
            (harness.peers, [interfaces.IPeers]),
            (_NoRoom(), [interfaces.ILocalRoom]),
            (NO_METRICS, [interfaces.IMetrics]),
            (PrometheusMetrics(), [interfaces.IMetrics]),
        ]

    def chatStages(self) -> list[tuple[object, list[type[Interface]]]]:
        """The stages of a room with history, logins and commands, as made."""
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, "users")
        htpasswd.write(path, {b"alice": bcrypt.hashpw(b"pw", bcrypt.gensalt(4))})
        checker = PasswordFileChecker(path)

        def gatekeeper(clock: Clock, log: Logger) -> Gatekeeper:
            return Gatekeeper(passwordPortal(checker), checker, clock, log)

        stages = list(FakeRoom(history=5, gatekeeper=gatekeeper).room.stages)
        self.assertEqual(
            [type(stage) for stage in stages], [Replay, Gatekeeper, Commands]
        )
        return [(stage, [interfaces.IStage]) for stage in stages]

    def test_eachProvidesItsInterfaces(self) -> None:
        """
        The room and its TCP door, the stages of chat mode, a TCP client
        and a browser's client with their send queues (of lines and of
        messages), gates and
        transports, the history and the record of messages, both kinds of
        peers and both kinds of metrics provide every interface they
        declare.
        """
        for implementation, provided in self.made():
            for interface in provided:
                # verifyObject raises, naming what is missing or wrong.
                self.assertTrue(verifyObject(interface, implementation))

    def test_everyImplementationVerified(self) -> None:
        """
        Every class of the server that declares one of its interfaces is
        among those verified here (a base class through a class of its).
        """
        made = [implementation for implementation, _ in self.made()]
        declared = {
            each
            for each in serverClasses()
            if any(seam in SEAMS for seam in implementedBy(each).flattened())
        }
        self.assertIn(ChatProtocol, declared)
        unverified = {
            each for each in declared if not any(isinstance(it, each) for it in made)
        }
        self.assertEqual(unverified, set())


def test_seamsNameNoImplementation() -> None:
    """
    The interfaces' signatures name interfaces and plain values only: no
    class of the server that implements a seam.
    """
    names = {each.__name__ for each in serverClasses() if list(implementedBy(each))}
    for seam in SEAMS:
        for attribute in seam.names():
            described = seam[attribute]
            text = (getattr(described, "__doc__", "") or "") + str(
                getattr(described, "getSignatureString", lambda: "")()
            )
            for name in names:
                assert f"L{{{name}}}" not in text, (seam, attribute, name)
    source = inspect.getsource(interfaces)
    for name in names:
        assert f": {name}" not in source and f"-> {name}" not in source, name
