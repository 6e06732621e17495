"""
The C{chat.json} subprotocol, in memory: a browser that asks for it in
chat mode is sent one JSON object a frame, the messages of a round in one
frame built once for every browser that gets the whole round; one that
does not ask, or a room without chat mode, still gets plain lines.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.error import ConnectionDone
from twisted.logger import Logger

from chat.core.limits import Limits
from chat.people import messages as records
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


class CatchUpTests(MessageSocketCase):
    """A page that comes back with the id of the last message it had."""

    history = 5

    def lastId(self, network: RecordingTransport) -> int:
        """The id of the last message sent to C{network}."""
        return max(
            m["id"] for each in self.objects(network) for m in each.get("messages", [])
        )

    def test_missedOnceInOrderThenLive(self) -> None:
        """
        A page back with C{?since=ID} is told first that what follows is
        complete, then sent exactly the messages after ID, once each,
        oldest first (the leave of its former self, the lines of others,
        also those of the iteration it comes back in, but not its own
        arrival), then the live room: nothing between, nothing twice.
        """
        tcp, _ = self.fake.connect()
        _, network, _ = self.openJSON()
        tcp.dataReceived(b"before\n")
        since = self.lastId(network)
        network.lose(ConnectionDone())
        for n in range(1, 4):
            tcp.dataReceived(b"missed %d\n" % n)
            self.fake.clock.advance(0)
        tcp.dataReceived(b"missed 4\n")
        _, back, _ = self.openJSON(f"/ws?since={since}")
        tcp.dataReceived(b"live 1\n")
        objects = self.objects(back)
        tcp.dataReceived(b"live 2\n")
        objects += self.objects(back)
        caughtUp = [i for i, each in enumerate(objects) if "caughtUp" in each]
        self.assertEqual(len(caughtUp), 1)
        self.assertEqual(
            objects[caughtUp[0]], {"caughtUp": {"since": since, "complete": True}}
        )
        after = [m for each in objects[caughtUp[0] :] for m in each.get("messages", [])]
        self.assertEqual(
            [m["text"] for m in after],
            ["client 1 just left"]
            + [f"missed {n}" for n in range(1, 5)]
            + ["live 1", "live 2"],
        )
        ids = [m["id"] for m in after]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertGreater(ids[0], since)
        before = [
            m["text"] for each in objects[: caughtUp[0]] for m in each["messages"]
        ]
        self.assertEqual(before, ["you are client 2", "2 clients: client 0, client 2"])

    def test_newcomerGetsTheHistoryThenLive(self) -> None:
        """
        Without C{since}, a newcomer is sent the history (lines, as
        messages, with their first ids and times), then the live room,
        nothing between and nothing twice, also when lines are said in the
        iteration it comes in, before and after it.
        """
        tcp, _ = self.fake.connect()
        for n in range(1, 8):
            tcp.dataReceived(b"said %d\n" % n)
            self.fake.clock.advance(1)
        tcp.dataReceived(b"said 8\n")
        _, network, _ = self.openJSON()
        tcp.dataReceived(b"live\n")
        sent = self.messages(network)
        texts = [text for *_, text in sent]
        self.assertEqual(
            texts[2:],
            ["last 5 lines"]
            + [f"said {n}" for n in range(4, 9)]
            + ["end of history", "live"],
        )

    def test_incompleteWhenForgotten(self) -> None:
        """
        When the record no longer holds every message after the id, the
        page is told so (C{complete: false}) and sent the messages held.
        """
        self.patch(records, "KEPT", 3)
        self.setUp()
        tcp, _ = self.fake.connect()
        for n in range(1, 6):
            tcp.dataReceived(b"said %d\n" % n)
        self.fake.clock.advance(601)
        tcp.dataReceived(b"newest\n")
        _, network, _ = self.openJSON("/ws?since=2")
        objects = self.objects(network)
        self.assertIn({"caughtUp": {"since": 2, "complete": False}}, objects)
        self.assertEqual(
            [m["text"] for m in objects[-1]["messages"]],
            ["said 5", "newest"],  # and its own arrival, not sent to it
        )

    def test_idBeyondTheNewest(self) -> None:
        """
        An id beyond the newest message (of the server's former run) is
        answered as not complete, with every message held.
        """
        tcp, _ = self.fake.connect()
        tcp.dataReceived(b"said\n")
        _, network, _ = self.openJSON("/ws?since=999999999999999999")
        objects = self.objects(network)
        self.assertIn(
            {"caughtUp": {"since": 999999999999999999, "complete": False}}, objects
        )
        self.assertEqual(
            [m["text"] for m in objects[-1]["messages"]],
            ["client 0 just arrived", "said"],
        )

    def test_badSince(self) -> None:
        """
        A C{since} that is not a number, negative, overlong or given twice
        is refused with C{400} saying why, the room unchanged; a page that
        comes next is let in.
        """
        for target, why in [
            ("/ws?since=abc", b"since is not the id of a message (digits)"),
            ("/ws?since=-1", b"since is not the id of a message (digits)"),
            ("/ws?since=1.5", b"since is not the id of a message (digits)"),
            ("/ws?since=%C2%B2", b"since is not the id of a message (digits)"),
            ("/ws?since=" + "9" * 19, b"since longer than 18 digits"),
            ("/ws?since=" + "1" * 5000, b"since longer than 18 digits"),
            ("/ws?since=1&since=2", b"since given more than once"),
        ]:
            connection, network = self.accept()
            connection.dataReceived(upgradeRequest(target=target, protocol="chat.json"))
            answer = network.value()
            self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), (target, answer))
            self.assertIn(why, answer)
            self.assertEqual(self.fake.room.clients, {})
        _, network, head = self.openJSON("/ws?since=0")
        self.assertIn(b" 101 ", head)
        self.assertIn(
            {"caughtUp": {"since": 0, "complete": True}}, self.objects(network)
        )

    def test_catchUpWithinTheSendQ(self) -> None:
        """
        However much was said, what a page catching up with everything the
        record holds is sent stays within its soft SendQ limit: the record
        keeps at most half of it, and the JSON of what it holds fits.
        """
        tcp, _ = self.fake.connect()
        for n in range(40):
            tcp.dataReceived(b"".join(b"%d %s\n" % (n, b"x" * 50) for _ in range(25)))
            self.fake.clock.advance(1)
        made = self.fake.room.messages
        assert made is not None
        self.assertGreater(made.lastId, 900)
        _, network, _ = self.openJSON("/ws?since=1")
        objects = self.objects(network)
        self.assertIn({"caughtUp": {"since": 1, "complete": False}}, objects)
        caughtUp = len(json.dumps(objects[-1]))
        self.assertGreater(caughtUp, 25_000)
        self.assertLess(caughtUp, 100_000)
        self.assertEqual(len(self.fake.room.clients), 2)
