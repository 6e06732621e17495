"""
The C{chat.json} subprotocol, in memory: a browser that asks for it in
chat mode is sent one JSON object a frame, the messages of a round in one
frame built once for every browser that gets the whole round; one that
does not ask, or a room without chat mode, still gets plain lines.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.logger import Logger

from chat.core.limits import Limits
from chat.web import messages as jsonframes
from chat.web.admission import WebFactory
from chat.web.site import webSite
from chat.web.socket import RoomSocket
from tests.support.fakes import FakeRoom, RecordingTransport
from tests.support.webclient import TEXT, frame, upgradeRequest
from tests.support.websocketfakes import SocketOnFakeRoom


class MessageSocketCase(SocketOnFakeRoom):
    """A room in chat mode (commands, a history of C{history} lines)."""

    history = 0

    def setUp(self) -> None:
        self.fake = FakeRoom(
            maxLine=64,
            limits=Limits(sendqHard=100_000, sendqSoft=100_000),
            commands=True,
            history=self.history,
        )
        self.door = WebFactory(
            webSite([], Logger(), self.fake.clock), self.fake.clock, self.fake.room
        )

    def openJSON(
        self, target: str = "/ws", protocol: str = "chat.json"
    ) -> tuple[RoomSocket, RecordingTransport, bytes]:
        """A WebSocket asking for C{protocol}: it, its network, its answer's head."""
        connection, network = self.accept()
        connection.dataReceived(upgradeRequest(target=target, protocol=protocol))
        socket = connection.wrappedProtocol
        assert isinstance(socket, RoomSocket)
        head, _, rest = network.value().partition(b"\r\n\r\n")
        network.clear()
        network.write(rest)
        return socket, network, head

    def objects(self, network: RecordingTransport) -> list[Any]:
        """The JSON objects sent to C{network} once this iteration is over."""
        found = []
        for opcode, payload in self.frames(network):
            self.assertEqual(opcode, TEXT)
            found.append(json.loads(payload))
        return found

    def messages(self, network: RecordingTransport) -> list[tuple[Any, ...]]:
        """The kind, sender and text of the messages sent to C{network}."""
        return [
            (m["kind"], m["from"]["id"], m["from"]["name"], m["text"])
            for each in self.objects(network)
            for m in each["messages"]
        ]


class MessageFrameTests(MessageSocketCase):
    def test_subprotocolAccepted(self) -> None:
        """
        In chat mode, a page that asks for C{chat.json} is answered with it,
        and its welcome comes as notices, one JSON object a frame.
        """
        self.fake.connect()
        _, network, head = self.openJSON()
        self.assertIn(b"\r\nSec-WebSocket-Protocol: chat.json", head)
        objects = self.objects(network)
        self.assertEqual(len(objects), 2)
        first = objects[0]["messages"][0]
        self.assertEqual(
            first["from"], {"id": None, "name": "server"}, "a notice's sender"
        )
        self.assertEqual(
            [m["text"] for each in objects for m in each["messages"]],
            ["you are client 1", "2 clients: client 0, client 1"],
        )

    def test_roundInOneFrame(self) -> None:
        """
        What a round brings is one frame of several messages, with their
        ids, the clock's time, the sender's id and name, the kind and the
        text, without the decoration of an action.
        """
        tcp, _ = self.fake.connect()
        _, network, _ = self.openJSON()
        self.objects(network)
        self.fake.clock.advance(1733330000.5)
        tcp.dataReceived(b"/nick alice\none\ntwo\n/me waves\n")
        objects = self.objects(network)
        self.assertEqual(len(objects), 1)
        sent = objects[0]["messages"]
        self.assertEqual(
            sent[1],
            {
                "id": sent[0]["id"] + 1,
                "time": 1733330000500,
                "kind": "line",
                "from": {"id": 0, "name": "alice"},
                "text": "one",
            },
        )
        self.assertEqual(
            [(m["kind"], m["text"]) for m in sent],
            [
                ("notice", "client 0 is now alice"),
                ("line", "one"),
                ("line", "two"),
                ("action", "waves"),
            ],
        )
        ids = [m["id"] for m in sent]
        self.assertEqual(ids, sorted(ids))

    def test_privateMessage(self) -> None:
        """A private message is of kind C{private}, from its sender."""
        tcp, _ = self.fake.connect()
        _, network, _ = self.openJSON()
        self.objects(network)
        tcp.dataReceived(b"/nick alice\n")
        socket, network2, _ = self.openJSON()
        self.objects(network2)
        socket.dataReceived(frame(TEXT, b"/nick bob"))
        self.objects(network)
        tcp.dataReceived(b"/msg bob psst\n")
        self.assertEqual(self.messages(network2), [("private", 0, "alice", "psst")])

    def test_sharedByTheRound(self) -> None:
        """
        The frame of a round is built once for every browser that gets all
        of it, and each message rendered once: not once a browser.
        """
        tcp, _ = self.fake.connect()
        opened = [self.openJSON() for _ in range(5)]
        browsers = [network for _, network, _ in opened]
        self.fake.clock.advance(0)
        for network in browsers:
            network.clear()
        rendered: list[object] = []
        framed: list[bytes] = []
        realJSON = jsonframes.messageJSON

        def counting(message: Any) -> str:
            rendered.append(message)
            return realJSON(message)

        frames = opened[0][0].factory.frames
        realFrame = frames.frame

        def countingFrame(payload: bytes) -> bytes:
            framed.append(payload)
            return realFrame(payload)

        self.patch(jsonframes, "messageJSON", counting)
        self.patch(frames, "frame", countingFrame)
        tcp.dataReceived(b"one\ntwo\n")
        self.fake.clock.advance(0)
        sent = [network.value() for network in browsers]
        self.assertEqual(len(set(sent)), 1)
        self.assertEqual(len(rendered), 2)
        self.assertEqual(len(framed), 1)

    def test_notUTF8(self) -> None:
        """
        Bytes of a line that are not UTF-8 are U+FFFD in the JSON, which
        stays valid; control characters are escaped in it.
        """
        tcp, _ = self.fake.connect()
        _, network, _ = self.openJSON()
        self.objects(network)
        tcp.dataReceived(b'a\xff\xfeb\x01"\\\n')
        self.assertEqual(
            self.messages(network), [("line", 0, "client 0", 'a\ufffd\ufffdb\x01"\\')]
        )

    def test_plainWithoutSubprotocol(self) -> None:
        """In chat mode, a socket without the subprotocol still gets lines."""
        tcp, _ = self.fake.connect()
        socket, network = self.openSocket()
        self.frames(network)
        tcp.dataReceived(b"one\ntwo\n")
        self.assertEqual(
            self.frames(network), [(TEXT, b"client 0: one"), (TEXT, b"client 0: two")]
        )

    def test_otherSubprotocolRefusedQuietly(self) -> None:
        """A page asking for another subprotocol gets none, and lines."""
        tcp, _ = self.fake.connect()
        _, network, head = self.openJSON(protocol="chat.xml")
        self.assertNotIn(b"Sec-WebSocket-Protocol", head)
        self.frames(network)
        tcp.dataReceived(b"one\n")
        self.assertEqual(self.frames(network), [(TEXT, b"client 0: one")])


class WithoutChatModeTests(SocketOnFakeRoom):
    def test_noSubprotocolWithoutChatMode(self) -> None:
        """
        Without chat options the room makes no message: a page asking for
        C{chat.json} is answered without it and gets plain lines.
        """
        tcp, _ = self.fake.connect()
        connection, network = self.accept()
        connection.dataReceived(upgradeRequest(protocol="chat.json"))
        self.assertNotIn(b"Sec-WebSocket-Protocol", network.value())
        self.frames(network)
        tcp.dataReceived(b"one\n")
        self.assertEqual(self.frames(network), [(TEXT, b"client 0: one")])
