"""
Browsers in the room, in memory: the WebSocket's transport for a room
client, the frames, the origins, the page, and a WebSocket on a fake room.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import itertools
import random
import re
import weakref
from importlib.resources import files
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IPushProducer
from twisted.internet.testing import StringTransport
from twisted.logger import Logger
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase
from wsproto.events import TextMessage
from zope.interface import implementer

from chat.app.options import Options
from chat.core.addresses import describeAddress
from chat.core.limits import Limits
from chat.core.lobby import CLOSE_GRACE
from chat.core.values import BadValueError
from chat.tcp.protocol import ChatProtocol, TurnedAway
from chat.web.admission import WebConnection, WebFactory
from chat.web.frames import textLines
from chat.web.hosts import Hosts, hostName
from chat.web.http import DoorRequest
from chat.web.origins import Origins, origin
from chat.web.site import Features, Page, contentSecurityPolicy, pageFor, webSite
from chat.web.socket import RoomSocket, RoomSocketFactory
from chat.web.transport import SocketTransport
from tests.support.fakes import FakeRoom
from tests.support.webclient import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    frame,
    serverFrames,
    upgradeRequest,
)
from tests.support.websocketfakes import SocketOnFakeRoom


def parseAnswer(data: bytes) -> tuple[bytes, dict[bytes, list[bytes]], bytes]:
    """The status, the headers (by lower-case name) and the body of C{data}."""
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers: dict[bytes, list[bytes]] = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status.split(b" ")[1], headers, body


class RecordingSocket:
    """A L{chat.web.transport.LineSocket} that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def sendFrames(self, data: bytes) -> None:
        self.sent.append(data)

    def closeSocket(self) -> None:
        self.closed = True


@implementer(IPushProducer)
class Producer:
    def __init__(self) -> None:
        self.state = "producing"

    def pauseProducing(self) -> None:
        self.state = "paused"

    def resumeProducing(self) -> None:
        self.state = "producing"

    def stopProducing(self) -> None:
        self.state = "stopped"


class SocketTransportTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.socket = RecordingSocket()
        self.network = StringTransport()
        self.transport = SocketTransport(self.socket, self.network)

    def test_completeLinesGoAsTheyCame(self) -> None:
        """
        What is written is handed on as the very bytes object, so that
        frames built once for many browsers are not copied.
        """
        data = b"client 0: a\nclient 0: b\n"
        self.transport.write(data)
        self.assertIs(self.socket.sent[0], data)

    def test_slicesGoAsTheyCame(self) -> None:
        """
        What the send queue writes is frames, or a slice of them: handed on
        as it comes, never held for the rest.
        """
        self.transport.write(b"\x81\x0bclient 0: a\x81")
        self.transport.write(b"\x01b")
        self.assertEqual(self.socket.sent, [b"\x81\x0bclient 0: a\x81", b"\x01b"])

    def test_pausingPausesTheNetwork(self) -> None:
        """Flood control and the room pause reading of the network."""
        self.transport.pauseProducing()
        self.assertEqual(self.network.producerState, "paused")
        self.transport.resumeProducing()
        self.assertEqual(self.network.producerState, "producing")

    def test_fullNetworkPausesTheSendQueue(self) -> None:
        """
        While the network's buffer is full the registered send queue is
        paused, and it produces again once the network can take more.
        """
        producer = Producer()
        self.transport.registerProducer(producer, True)
        self.transport.outputPaused()
        self.assertEqual(producer.state, "paused")
        self.transport.outputResumed()
        self.assertEqual(producer.state, "producing")

    def test_pullProducerRefused(self) -> None:
        """
        Only a push producer may be registered: a pull producer is refused
        with C{ValueError}.
        """
        self.assertRaises(
            ValueError, self.transport.registerProducer, Producer(), False
        )

    def test_closesOnceTheSendQueueIsDone(self) -> None:
        """
        With a send queue registered, the WebSocket is closed only when it
        has written everything and unregistered.
        """
        self.transport.registerProducer(Producer(), True)
        self.transport.loseConnection()
        self.assertFalse(self.socket.closed)
        self.transport.write(b"server: bye\n")
        self.transport.unregisterProducer()
        self.assertTrue(self.socket.closed)
        self.assertEqual(self.socket.sent, [b"server: bye\n"])

    def test_readAgainWhileClosing(self) -> None:
        """
        Closing reads the network again (the closing handshake needs the
        browser's answer), and nothing pauses it after.
        """
        self.transport.pauseProducing()
        self.transport.loseConnection()
        self.assertEqual(self.network.producerState, "producing")
        self.transport.pauseProducing()
        self.assertEqual(self.network.producerState, "producing")

    def test_nothingAfterClosing(self) -> None:
        """
        Once the connection is being closed the WebSocket is closed, and
        what is written after is not sent.
        """
        self.transport.loseConnection()
        self.transport.write(b"late\n")
        self.assertTrue(self.socket.closed)
        self.assertEqual(self.socket.sent, [])

    def test_lostConnectionStopsTheSendQueue(self) -> None:
        """When the connection is lost the send queue is stopped and let go."""
        producer = Producer()
        self.transport.registerProducer(producer, True)
        self.transport.connectionLost()
        self.assertEqual(producer.state, "stopped")
        self.assertIsNone(self.transport.producer)

    def test_abortAbortsTheNetwork(self) -> None:
        """
        Aborting drops the network connection at once, and what is written
        after is not sent.
        """
        self.transport.abortConnection()
        self.transport.write(b"late\n")
        self.assertTrue(self.network.disconnecting)
        self.assertEqual(self.socket.sent, [])


class TextLinesTests(SynchronousTestCase):
    def test_utf8AsItIs(self) -> None:
        """Lines that are UTF-8 are given as they are, each without its C{\\n}."""
        self.assertEqual(textLines("a é\nb\n".encode()), ["a é".encode(), b"b"])

    def test_invalidBytesReplaced(self) -> None:
        """Bytes that are not UTF-8 are shown with U+FFFD, line by line."""
        self.assertEqual(
            textLines(b"a\xff\nb\xe2\x82\n\x00c\n"),
            ["a\ufffd".encode(), "b\ufffd".encode(), b"\x00c"],
        )


class OriginTests(SynchronousTestCase):
    def test_normalForm(self) -> None:
        """
        An origin is kept in one form: scheme and host in lower case, no
        default port, no trailing slash; an IPv6 host keeps its brackets and
        port.
        """
        self.assertEqual(
            origin("-", "HTTPS://Chat.Example.org:443/"), "https://chat.example.org"
        )
        self.assertEqual(origin("-", "http://[::1]:8081"), "http://[::1]:8081")

    def test_notOrigins(self) -> None:
        """
        What is not an HTTP or HTTPS origin (no scheme, a path, a user, a
        bad port, no host) is refused, naming the option.
        """
        for text in [
            "chat.example.org",
            "ftp://x",
            "http://x/path",
            "http://u@x",
            "http://x:99999",
            "http://",
        ]:
            with self.assertRaises(BadValueError) as caught:
                origin("--web-origin", text)
            self.assertIn("--web-origin", str(caught.exception))

    def test_sameOriginOnly(self) -> None:
        """
        With no other origin given, only a page of the very host, over the
        same scheme, is let in (its default port may be left out).
        """
        origins = Origins([])
        self.assertTrue(
            origins.allows("http://127.0.0.1:8081", "127.0.0.1:8081", False)
        )
        self.assertTrue(
            origins.allows("https://chat.example.org", "chat.example.org:443", True)
        )
        self.assertFalse(
            origins.allows("http://127.0.0.1:8081", "127.0.0.1:8081", True)
        )
        self.assertFalse(origins.allows("http://evil.example", "127.0.0.1:8081", False))

    def test_noOriginIsNoBrowser(self) -> None:
        """A request without an C{Origin} is not from a browser, and is let in."""
        self.assertTrue(Origins([]).allows(None, "127.0.0.1:8081", False))

    def test_othersAllowed(self) -> None:
        """A page of an origin given is let in whatever the host it asks for."""
        origins = Origins(["https://chat.example.org"])
        self.assertTrue(
            origins.allows("https://chat.example.org", "10.0.0.1:8081", False)
        )


class PageTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.html = files("chat.web").joinpath("page.html").read_text()

    def test_servedAsHtmlWithPolicy(self) -> None:
        """
        The page is served as it is, as UTF-8 HTML that is not to be
        sniffed, under a content security policy that denies by default.
        """
        status, headers, body = parseAnswer(Page(self.html).answer())
        self.assertEqual(status, b"200")
        self.assertEqual(body, self.html.encode())
        self.assertEqual(headers[b"content-type"], [b"text/html; charset=utf-8"])
        self.assertEqual(headers[b"x-content-type-options"], [b"nosniff"])
        self.assertEqual(headers[b"referrer-policy"], [b"no-referrer"])
        self.assertEqual(headers[b"cache-control"], [b"no-cache"])
        policy = headers[b"content-security-policy"][0].decode()
        self.assertIn("default-src 'none'", policy)

    def test_headWithoutBody(self) -> None:
        """A C{HEAD} gets the same head as a C{GET}, and no body."""
        page = Page(self.html)
        head, _, body = page.answer(bodyless=True).partition(b"\r\n\r\n")
        self.assertEqual(body, b"")
        self.assertEqual(head, page.answer().partition(b"\r\n\r\n")[0])

    def test_policyAllowsExactlyTheInlineScript(self) -> None:
        """The script's hash is in the policy; a changed script's is not."""
        script = re.search(r"<script>(.*?)</script>", self.html, re.DOTALL).group(1)  # type: ignore[union-attr]
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        self.assertIn(f"script-src 'sha256-{digest}'", contentSecurityPolicy(self.html))
        changed = self.html.replace(script, script + "alert(1);")
        self.assertNotIn(digest, contentSecurityPolicy(changed))

    def test_pageIsSelfContained(self) -> None:
        """No script, style or image from elsewhere: no CDN."""
        self.assertNotRegex(self.html, r"(src|href)=\"(https?:)?//")
        self.assertNotIn("innerHTML", self.html)


class FeaturesTests(SynchronousTestCase):
    """The page is told the server's chat features on its C{<body>}."""

    def setUp(self) -> None:
        self.html = files("chat.web").joinpath("page.html").read_text()

    def get(self, features: Features) -> tuple[str, str]:
        """The page the site serves at C{/} with C{features}, and its policy."""
        fake = FakeRoom()
        door = WebFactory(webSite([], Logger(), fake.clock, features), fake.clock)
        network = fake.transport()
        connection = door.buildProtocol(network.getPeer())
        connection.makeConnection(network)
        host = describeAddress(network.getHost()).encode()
        connection.dataReceived(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        status, headers, body = parseAnswer(network.value())
        self.assertEqual(status, b"200")
        return body.decode(), headers[b"content-security-policy"][0].decode()

    def test_noneByDefault(self) -> None:
        """Without features the page is served unchanged."""
        body, _ = self.get(Features())
        self.assertEqual(body, self.html)

    def test_everyFeatureOnTheBody(self) -> None:
        """
        Every feature on is marked on the one C{<body>}: logins, commands
        and the length of the history.
        """
        body, _ = self.get(Features(auth=True, commands=True, history=50))
        self.assertIn('<body data-auth data-commands data-history="50">', body)
        self.assertEqual(body.count("<body"), 1)

    def test_eachFeatureAlone(self) -> None:
        """Each feature on its own marks only itself on the C{<body>}."""
        for features, attributes in [
            (Features(auth=True), " data-auth"),
            (Features(commands=True), " data-commands"),
            (Features(history=3), ' data-history="3"'),
        ]:
            self.assertIn(f"<body{attributes}>", pageFor(self.html, features))

    def test_policyUnchanged(self) -> None:
        """The script and style are the same: so are their hashes."""
        _, plain = self.get(Features())
        _, featured = self.get(Features(auth=True, commands=True, history=10))
        self.assertEqual(plain, featured)
        self.assertEqual(featured, contentSecurityPolicy(self.html))

    def test_pageWithoutOneBody(self) -> None:
        """A page with no C{<body>}, or with two, cannot be marked: C{ValueError}."""
        for html in ["<p>no body</p>", "<body></body><body></body>"]:
            self.assertRaises(ValueError, pageFor, html, Features(auth=True))


class WebOptionsTests(SynchronousTestCase):
    def parse(self, *arguments: str) -> Options:
        parsed = Options()
        parsed.parse(list(arguments))
        return parsed

    def test_repeatable(self) -> None:
        """
        C{--web} and C{--web-origin} may be given many times; an endpoint
        without an interface listens on loopback, and origins are kept in
        their normal form.
        """
        options = self.parse(
            "--web",
            "tcp:0",
            "--web",
            "tcp:0:interface=\\:\\:1",
            "--web-origin",
            "https://A.example",
        )
        self.assertEqual(
            options["web"], ["tcp:0:interface=127.0.0.1", "tcp:0:interface=\\:\\:1"]
        )
        self.assertEqual(options["web-origins"], ["https://a.example"])

    def test_badEndpointNamed(self) -> None:
        """A bad C{--web} endpoint is a usage error that names the option."""
        with self.assertRaises(usage.UsageError) as caught:
            self.parse("--web", "tcp:70000")
        self.assertIn("--web:", str(caught.exception))

    def test_badOriginNamed(self) -> None:
        """A bad C{--web-origin} is a usage error that names the option."""
        with self.assertRaises(usage.UsageError) as caught:
            self.parse("--web-origin", "example.org")
        self.assertIn("--web-origin:", str(caught.exception))


class NamedWelcomeTests(SocketOnFakeRoom):
    commands = True

    def test_welcomeNamesThePeople(self) -> None:
        """
        In a room with names, a browser's welcome lists everyone by name,
        as C{/who} does, itself last: not the ids of the connections.
        """
        alice, aliceTransport = self.fake.connect()
        self.fake.connect()
        alice.dataReceived(b"/nick alice\n")
        self.fake.received(aliceTransport)
        socket, network = self.openSocket("http://127.0.0.1:8081")
        self.assertEqual(
            self.frames(network),
            [
                (TEXT, b"server: you are client 2"),
                (TEXT, b"server: 3 clients: alice, client 1, client 2"),
            ],
        )
        socket.dataReceived(frame(TEXT, b"/who"))
        self.assertEqual(
            self.frames(network),
            [(TEXT, b"server: 3 clients: alice, client 1, client 2")],
        )


class RoomSocketTests(SocketOnFakeRoom):
    def test_joinsTheRoomAsAClient(self) -> None:
        """
        The browser is told its id and who is there; the TCP client sees it
        arrive as any client, and its lines go both ways, one frame a line.
        """
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket("http://127.0.0.1:8081")
        self.assertEqual(
            self.frames(network),
            [
                (TEXT, b"server: you are client 1"),
                (TEXT, b"server: 2 clients: client 0, client 1"),
            ],
        )
        self.assertEqual(
            self.fake.received(tcpTransport), b"server: client 1 just arrived\n"
        )
        socket.dataReceived(frame(TEXT, b"hi") + frame(TEXT, b""))
        self.assertEqual(
            self.fake.received(tcpTransport), b"client 1: hi\nclient 1: \n"
        )
        tcp.dataReceived(b"one\ntwo\xff\n")
        self.assertEqual(
            self.frames(network),
            [(TEXT, b"client 0: one"), (TEXT, "client 0: two\ufffd".encode())],
        )
        self.assertIn(" (web)", "".join(str(e.get("via")) for e in self.fake.events))

    def test_longFrameCut(self) -> None:
        """A frame longer than the longest line is relayed in pieces."""
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.fake.received(tcpTransport)
        socket.dataReceived(frame(TEXT, b"a" * 16 + b"b" * 16 + b"c"))
        self.assertEqual(
            self.fake.received(tcpTransport),
            b"client 1: "
            + b"a" * 16
            + b"\nclient 1: "
            + b"b" * 16
            + b"\nclient 1: c\n",
        )

    def test_fragmentedMessageIsOneLine(self) -> None:
        """A message sent in fragments reaches the room as one line."""
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.fake.received(tcpTransport)
        socket.dataReceived(frame(TEXT, b"ab", fin=False))
        socket.dataReceived(frame(0, b"cd"))
        self.assertEqual(self.fake.received(tcpTransport), b"client 1: abcd\n")

    def test_binaryFrameRefused(self) -> None:
        """A binary frame closes the WebSocket (1003); none of it is relayed."""
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.frames(network)
        self.fake.received(tcpTransport)
        socket.dataReceived(frame(BINARY, b"data\n"))
        closing = self.frames(network)
        self.assertEqual(closing, [(CLOSE, b"\x03\xebtext frames only")])
        socket.connectionLost()
        self.assertEqual(
            self.fake.received(tcpTransport), b"server: client 1 just left\n"
        )

    def test_otherOriginRefused(self) -> None:
        """
        A WebSocket from a page of another origin is forbidden (403) and
        never joins the room.
        """
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket("http://evil.example")
        self.assertTrue(network.value().startswith(b"HTTP/1.1 403"))
        self.assertEqual(self.fake.room.clients, {0: tcp})

    def test_lazyBrowserCutAtSendQ(self) -> None:
        """
        Once the network's buffer is full, what the browser does not read is
        held in its send queue, and past the SendQ limit it is cut off.
        """
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        client = self.fake.room.clients[1]
        socket.pauseProducing()  # the network's buffer is full
        tcp.dataReceived(b"x" * 15 + b"\n")
        self.fake.clock.advance(0)
        # Held as its frame: two bytes of header, the line without its \n.
        self.assertEqual(client.sendq.size, 2 + len(b"client 0: ") + 15)
        for _ in range(40):
            tcp.dataReceived(b"x" * 15 + b"\n")
            self.fake.clock.advance(0)
        self.assertTrue(network.aborted)
        self.assertNotIn(1, self.fake.room.clients)
        self.assertEqual(
            tcpTransport.value()[-len(b"server: client 1 just left\n") :],
            b"server: client 1 just left\n",
        )

    def test_floodControlPausesTheNetwork(self) -> None:
        """
        Past the flood allowance the browser's network connection is no
        longer read, and it is read again once the allowance is back.
        """
        self.fake.room.limits = Limits(floodRate=1, floodBurst=1)
        socket, network = self.openSocket()
        socket.dataReceived(frame(TEXT, b"a") + frame(TEXT, b"b"))
        self.assertEqual(network.producerState, "paused")
        self.fake.clock.advance(1)
        self.assertEqual(network.producerState, "producing")

    def test_turnedAwayIsTold(self) -> None:
        """
        A connection the room has no place for is told why in an HTTP
        answer as it is accepted, before any request, and closed.
        """
        self.fake.room.limits = Limits(maxClients=1)
        self.fake.connect()
        _, network = self.accept()
        answer = network.value()
        self.assertTrue(answer.startswith(b"HTTP/1.1 503 "))
        self.assertTrue(answer.endswith(b"\r\n\r\nserver: server full\n"))
        self.assertTrue(network.disconnecting)

    def test_clientIsARoomClient(self) -> None:
        """A browser is in the room as a L{ChatProtocol}, as a TCP client is."""
        socket, network = self.openSocket()
        self.assertIsInstance(self.fake.room.clients[0], ChatProtocol)

    def test_framesBuiltOncePerBatch(self) -> None:
        """Browsers receiving the same batch are sent the same frames object."""
        tcp, tcpTransport = self.fake.connect()
        sockets = [self.openSocket() for _ in range(3)]
        for _, network in sockets:
            self.frames(network)
        tcp.dataReceived(b"hello\n")
        self.fake.clock.advance(0)
        sent = [network.writes[-1] for _, network in sockets]
        self.assertEqual(serverFrames(sent[0]), [(TEXT, b"client 0: hello")])
        self.assertIs(sent[0], sent[1])
        self.assertIs(sent[1], sent[2])


class RoomSocketAttackTests(SocketOnFakeRoom):
    """What a WebSocket client that is not a browser may send."""

    def test_frameDribbledByteByByte(self) -> None:
        """A frame sent a byte at a time is relayed once it is whole, as one line."""
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.fake.received(tcpTransport)
        for byte in frame(TEXT, b"slowly"):
            socket.dataReceived(bytes([byte]))
        self.assertEqual(self.fake.received(tcpTransport), b"client 1: slowly\n")

    def test_hugeFrameStreamedInPieces(self) -> None:
        """
        A frame that announces a terabyte is relayed in pieces as it comes:
        nothing waits for its end, the buffer stays within the line length.
        """
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.fake.received(tcpTransport)
        head = frame(TEXT, b"")[:1] + bytes([0x80 | 127]) + (1 << 40).to_bytes(8, "big")
        socket.dataReceived(head + b"\0\0\0\0")  # a zero mask
        for _ in range(10):
            socket.dataReceived(b"y" * 100)
            self.assertLessEqual(self.fake.room.clients[1].buffered, 16)
        self.assertEqual(
            self.fake.received(tcpTransport),
            b"".join(b"client 1: " + b"y" * 16 + b"\n" for _ in range(62)),
        )

    def test_invalidUtf8Refused(self) -> None:
        """
        A text frame that is not UTF-8 drops the connection; none of it is
        relayed.
        """
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.fake.received(tcpTransport)
        socket.dataReceived(frame(TEXT, b"bad \xff"))
        self.assertTrue(network.aborted)
        self.assertEqual(
            self.fake.received(tcpTransport), b"server: client 1 just left\n"
        )

    def test_manyFramesInOneReadAreOneRelay(self) -> None:
        """Every message of one network read reaches the room at once."""
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.fake.received(tcpTransport)
        socket.dataReceived(b"".join(frame(TEXT, b"%d" % index) for index in range(50)))
        self.assertEqual(
            self.fake.received(tcpTransport),
            b"".join(b"client 1: %d\n" % index for index in range(50)),
        )
        relays = [event for event in self.fake.events if event.get("sender") == 1]
        self.assertEqual([event["count"] for event in relays], [50])

    def test_framesOfEveryKindInOneRead(self) -> None:
        """
        Long and short text frames, UTF-8, a ping and a fragmented message in
        one read: every line in order, the ping answered.
        """
        tcp, tcpTransport = self.fake.connect()
        self.fake.room.maxLine = 1000
        socket, network = self.openSocket()
        self.frames(network)
        self.fake.received(tcpTransport)
        long = b"l" * 300
        socket.dataReceived(
            frame(TEXT, long)
            + frame(TEXT, "é✓".encode())
            + frame(PING, b"p")
            + frame(TEXT, b"frag", fin=False)
            + frame(0, b"ment")
            + frame(TEXT, b"last")
        )
        self.assertEqual(
            self.fake.received(tcpTransport),
            b"client 1: "
            + long
            + "\nclient 1: é✓\n".encode()
            + b"client 1: fragment\nclient 1: last\n",
        )
        self.assertEqual(self.frames(network), [(PONG, b"p")])


CLEAR = b"\0\0\0\0"
"""A mask that leaves a frame's payload as it is on the wire."""

FAKE = frame(TEXT, b"FAKE", mask=CLEAR)
"""A frame inside others' payloads: taken for one, it would be relayed."""


class FrameStreamTests(SocketOnFakeRoom):
    """
    What a browser sends, cut into network reads anywhere.  The payloads
    hold what looks like a text frame, at every few bytes: read from
    anywhere but the start of a frame, it would be relayed.
    """

    def stream(self, seed: int) -> tuple[bytes, list[bytes], list[bytes]]:
        """
        Frames of every kind: text frames of every length encoding, empty
        ones, fragmented messages with pings between their fragments, pings
        between messages.  The frames, the messages, the pings' payloads.
        """
        rng = random.Random(seed)
        # Valid UTF-8 holding FAKE: U+1044 (E1 81 84) starts it.
        units = ["a", "é", "✓", (b"\xe1" + FAKE).decode()]
        frames, messages, pings = [], [], []
        for _ in range(rng.randint(5, 15)):
            size = rng.choice([0, 1, 5, 125, 126, 127, 300, 6000, 16384])
            message = "".join(rng.choice(units) for _ in range(size)).encode()
            messages.append(message)
            if rng.random() < 0.6:
                frames.append(frame(TEXT, message, mask=CLEAR))
                continue
            cuts = sorted(rng.randint(0, len(message)) for _ in range(3))
            bounds = [0, *cuts, len(message)]
            for index, (start, stop) in enumerate(itertools.pairwise(bounds)):
                if index and rng.random() < 0.5:
                    pings.append(FAKE * (index + 1))
                    frames.append(frame(PING, pings[-1], mask=CLEAR))
                last = stop == len(message) and index == len(bounds) - 2
                opcode = 0 if index else TEXT
                frames.append(frame(opcode, message[start:stop], last, CLEAR))
            if rng.random() < 0.3:
                pings.append(FAKE * rng.randint(1, 12))
                frames.append(frame(PING, pings[-1], mask=CLEAR))
        return b"".join(frames), messages, pings

    def test_anyCutOfAnyFrames(self) -> None:
        """
        However the frames are cut into reads, every message reaches the
        room whole, once, in order, and every ping is answered.
        """
        self.fake.room.maxLine = 1 << 20
        tcp, tcpTransport = self.fake.connect()
        for seed in range(10):
            data, messages, pings = self.stream(seed)
            socket, network = self.openSocket()
            self.frames(network)
            self.fake.received(tcpTransport)
            rng = random.Random(seed)
            position = 0
            while position < len(data):
                size = rng.choice([1, 2, 3, 5, 11, 100, 1000, 5000, 100000])
                socket.dataReceived(data[position : position + size])
                position += size
            self.assertEqual(
                self.fake.received(tcpTransport),
                b"".join(b"client %d: %s\n" % (seed + 1, m) for m in messages),
            )
            self.assertEqual(self.frames(network), [(PONG, ping) for ping in pings])

    def test_framesTakenHereAgain(self) -> None:
        """
        After frames of every kind, cut anywhere, whole text frames are
        taken here again: wsproto does not see them.
        """
        seen: list[TextMessage] = []

        class Counting(RoomSocket):
            def textReceived(self, event: TextMessage) -> None:
                seen.append(event)
                super().textReceived(event)

        self.patch(RoomSocketFactory, "protocol", Counting)
        for seed in range(4):
            data, messages, pings = self.stream(seed)
            socket, network = self.openSocket()
            for start in range(0, len(data), 7):
                socket.dataReceived(data[start : start + 7])
            self.assertTrue(seen)  # wsproto read the fragments
            del seen[:]
            socket.dataReceived(b"".join(frame(TEXT, b"%d" % n) for n in range(9)))
            self.assertEqual(seen, [])

    def test_aPingOfFrames(self) -> None:
        """A ping whose payload is frames, read in pieces that start on them."""
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.frames(network)
        self.fake.received(tcpTransport)
        data = frame(PING, FAKE * 12, mask=CLEAR) + frame(TEXT, b"next")
        socket.dataReceived(data[:6])
        for start in range(6, len(data), len(FAKE)):
            socket.dataReceived(data[start : start + len(FAKE)])
        self.assertEqual(self.fake.received(tcpTransport), b"client 1: next\n")
        self.assertEqual(self.frames(network), [(PONG, FAKE * 12)])

    def test_aLongFrameOfFrames(self) -> None:
        """
        A frame with a 64-bit length whose payload is frames, read in
        pieces that start on them: one message.
        """
        self.fake.room.maxLine = 1 << 20
        tcp, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.fake.received(tcpTransport)
        payload = (b"\xe1" + FAKE) * 7000
        data = frame(TEXT, payload, mask=CLEAR) + frame(TEXT, b"next")
        for start in range(0, len(data), len(FAKE)):
            socket.dataReceived(data[start : start + len(FAKE)])
        self.assertEqual(
            self.fake.received(tcpTransport),
            b"client 1: " + payload + b"\nclient 1: next\n",
        )


class UnfinishedMessageTests(SocketOnFakeRoom):
    """
    A message is relayed once it has ended, valid: nothing of one that the
    connection's end cuts off reaches the room.  Each test ends with a line
    from another client, which must come right after what is checked.
    """

    def setUp(self) -> None:
        super().setUp()
        self.tcp, self.tcpTransport = self.fake.connect()
        self.socket, self.network = self.openSocket()
        self.fake.received(self.tcpTransport)
        self.other, self.otherTransport = self.fake.connect()
        self.fake.received(self.tcpTransport)

    def assertRelayedThenLeft(self, relayed: bytes) -> None:
        """
        The room saw C{relayed} from the browser, then its departure, then
        the other client's line: nothing else.
        """
        self.network.lose(ConnectionDone())  # once the server has dropped it
        self.other.dataReceived(b"marker\n")
        self.assertEqual(
            self.fake.received(self.tcpTransport),
            relayed + b"server: client 1 just left\nclient 2: marker\n",
        )

    def test_fragmentThenProtocolError(self) -> None:
        """
        A fragment, then a new message where its continuation should be:
        the connection is failed, and the fragment is not relayed.
        """
        self.socket.dataReceived(frame(TEXT, b"half", fin=False))
        self.socket.dataReceived(frame(TEXT, b"other"))
        self.assertTrue(self.network.aborted)
        self.assertRelayedThenLeft(b"")

    def test_fragmentThenClose(self) -> None:
        """A closing handshake in the middle of a message: none of it is relayed."""
        self.socket.dataReceived(frame(TEXT, b"half", fin=False))
        self.socket.dataReceived(frame(CLOSE, b"\x03\xe8"))
        self.assertRelayedThenLeft(b"")

    def test_fragmentThenConnectionLost(self) -> None:
        """Two fragments, then the connection is lost: neither is relayed."""
        self.socket.dataReceived(
            frame(TEXT, b"ab", fin=False) + frame(0, b"cd", fin=False)
        )
        self.assertRelayedThenLeft(b"")

    def test_messageEndingMidCharacter(self) -> None:
        """
        A message whose last frame ends in the middle of a UTF-8 sequence
        fails the connection; none of it is relayed, in one frame or in
        fragments.
        """
        self.socket.dataReceived(frame(TEXT, b"caf\xc3"))
        self.assertTrue(self.network.aborted)
        self.assertRelayedThenLeft(b"")

    def test_fragmentsEndingMidCharacter(self) -> None:
        """The same when the last fragment ends in the middle of a character."""
        self.socket.dataReceived(frame(TEXT, b"caf", fin=False))
        self.socket.dataReceived(frame(0, b"\xc3"))
        self.assertTrue(self.network.aborted)
        self.assertRelayedThenLeft(b"")

    def test_fragmentCutMidCharacter(self) -> None:
        """A fragment that stops in the middle of a character, then the end."""
        self.socket.dataReceived(frame(TEXT, "caf\u00e9".encode()[:-1], fin=False))
        self.assertRelayedThenLeft(b"")

    def test_linesOfAnUnfinishedMessage(self) -> None:
        """Lines inside a message are not relayed before the message ends."""
        self.socket.dataReceived(frame(TEXT, b"one\ntwo", fin=False))
        self.socket.dataReceived(frame(TEXT, b"other"))
        self.assertRelayedThenLeft(b"")

    def test_messagesBeforeTheErrorRelayed(self) -> None:
        """
        The messages that ended before the error, in the same read, are
        relayed: only the unfinished one is not.
        """
        self.socket.dataReceived(
            frame(TEXT, b"first")
            + frame(TEXT, b"sec", fin=False)
            + frame(0, b"ond")
            + frame(TEXT, b"cut", fin=False)
            + frame(TEXT, b"other")
        )
        self.assertRelayedThenLeft(b"client 1: first\nclient 1: second\n")

    def test_longMessageCutOff(self) -> None:
        """
        A message longer than a line is relayed in pieces as it comes; if it
        is cut off, nothing more of it is relayed.
        """
        self.socket.dataReceived(frame(TEXT, b"a" * 16 + b"b" * 5, fin=False))
        self.socket.dataReceived(frame(0, b"c" * 3, fin=False))
        self.assertRelayedThenLeft(b"client 1: " + b"a" * 16 + b"\n")

    def test_longMessageEnded(self) -> None:
        """The same message, ended, is relayed whole, in pieces."""
        self.socket.dataReceived(frame(TEXT, b"a" * 16 + b"b" * 5, fin=False))
        self.socket.dataReceived(frame(0, b"c" * 3))
        self.assertRelayedThenLeft(
            b"client 1: " + b"a" * 16 + b"\nclient 1: bbbbbccc\n"
        )

    def test_cutOffUnderFloodControl(self) -> None:
        """
        A message cut off while flood control holds earlier ones: those
        are relayed as far as the allowance goes, the cut one is not.
        """
        self.fake.room.limits = Limits(floodRate=1, floodBurst=2)
        socket, network = self.openSocket()
        self.fake.received(self.tcpTransport)
        socket.dataReceived(
            frame(TEXT, b"one")
            + frame(TEXT, b"two")
            + frame(TEXT, b"c" * 20, fin=False)
        )
        self.assertEqual(network.producerState, "paused")
        self.fake.clock.advance(1)
        network.lose(ConnectionDone())
        self.other.dataReceived(b"marker\n")
        self.assertEqual(
            self.fake.received(self.tcpTransport),
            b"client 3: one\nclient 3: two\nclient 3: " + b"c" * 16 + b"\n"
            b"server: client 3 just left\nclient 2: marker\n",
        )


class SiteTests(SynchronousTestCase):
    def test_upgradeRequestLetGo(self) -> None:
        """
        Once the WebSocket has the connection, nothing holds the request
        that opened it, nor the parser of its head: both are freed as soon
        as it is served, without the garbage collector (which stays off
        meanwhile).
        """
        fake = FakeRoom()
        site = webSite([], Logger(), fake.clock)
        requests: list[weakref.ref[Any]] = []

        class Recorded(DoorRequest):
            def __init__(self) -> None:
                super().__init__()
                requests.append(weakref.ref(self))
                requests.append(weakref.ref(self._parser))

        self.assertIs(site.protocol, DoorRequest)
        site.protocol = Recorded
        network = fake.transport()
        connection = WebFactory(site, fake.clock, fake.room).buildProtocol(
            network.getPeer()
        )
        network.protocol = connection
        self.addCleanup(gc.enable)
        gc.disable()
        connection.makeConnection(network)
        connection.dataReceived(upgradeRequest(host=describeAddress(network.getHost())))
        self.assertTrue(network.value().startswith(b"HTTP/1.1 101 "))
        self.assertIsInstance(connection.wrappedProtocol, RoomSocket)
        self.assertIn(0, fake.room.clients)
        self.assertEqual(len(requests), 2)
        self.assertEqual([ref() for ref in requests], [None, None])


class FramesBehindTheRequestTests(SocketOnFakeRoom):
    """Frames a client sends without waiting for the answer to its upgrade."""

    def test_framesInTheUpgradeRequestsRead(self) -> None:
        """
        Frames sent right behind the upgrade request, in the same network
        read, are the WebSocket's first: relayed, in order, before what
        comes next.
        """
        _, tcpTransport = self.fake.connect()
        connection, _ = self.accept()
        connection.dataReceived(
            upgradeRequest() + frame(TEXT, b"first") + frame(TEXT, b"sec", fin=False)
        )
        self.assertIsInstance(connection.wrappedProtocol, RoomSocket)
        connection.dataReceived(frame(0, b"ond") + frame(TEXT, b"third"))
        self.assertEqual(
            self.fake.received(tcpTransport),
            b"server: client 1 just arrived\n"
            b"client 1: first\nclient 1: second\nclient 1: third\n",
        )

    def test_frameInTheReadOfTheRequestsEnd(self) -> None:
        """The same when the request came in pieces and its end with a frame."""
        _, tcpTransport = self.fake.connect()
        connection, _ = self.accept()
        request = upgradeRequest()
        connection.dataReceived(request[:30])
        connection.dataReceived(request[30:] + frame(TEXT, b"first"))
        connection.dataReceived(frame(TEXT, b"second"))
        self.assertEqual(
            self.fake.received(tcpTransport),
            b"server: client 1 just arrived\nclient 1: first\nclient 1: second\n",
        )


class WebDoorTests(SocketOnFakeRoom):
    """
    The web door admits a connection as it is accepted, before any HTTP,
    and bounds the time its request may take.
    """

    def request(self, connection: WebConnection, *lines: str) -> None:
        """Send C{lines} as one request head on C{connection}."""
        connection.dataReceived(("\r\n".join(lines) + "\r\n\r\n").encode())

    def test_placeTakenAtAccept(self) -> None:
        """
        A connection that sends nothing holds a place under its address:
        past --max-per-ip the next web connection is told so (503) and
        closed, and so is a TCP client from there; once one closes, a TCP
        client gets in.
        """
        self.fake.room.limits = Limits(maxPerAddress=2)
        (_, firstNetwork), _ = self.accept(), self.accept()
        _, refused = self.accept()
        self.assertTrue(refused.value().startswith(b"HTTP/1.1 503 "))
        self.assertIn(b"\r\n\r\nserver: too many connections", refused.value())
        self.assertTrue(refused.disconnecting)
        self.assertIsInstance(
            self.fake.room.door.buildProtocol(firstNetwork.getPeer()), TurnedAway
        )
        self.assertEqual(firstNetwork.value(), b"")
        firstNetwork.lose(ConnectionDone())
        client, _ = self.fake.connect()
        self.assertIn(
            client, self.fake.room.lobby.waiting | set(self.fake.room.clients.values())
        )

    def test_webSocketKeepsItsPlace(self) -> None:
        """
        A connection that opens the WebSocket is the room's client in the
        place it was given: counted once, and free again when it closes.
        """
        self.fake.room.limits = Limits(maxClients=2)
        socket, network = self.openSocket()
        self.assertEqual(list(self.fake.room.clients), [0])
        _, second = self.accept()
        self.assertEqual(second.value(), b"")  # the second place
        _, third = self.accept()
        self.assertTrue(third.value().startswith(b"HTTP/1.1 503 "))
        network.lose(ConnectionDone())
        self.assertEqual(self.fake.room.clients, {})
        _, fourth = self.accept()
        self.assertEqual(fourth.value(), b"")

    def test_refusedHandshakeGivesItsPlaceBack(self) -> None:
        """A WebSocket refused (another origin) frees its place as it closes."""
        self.fake.room.limits = Limits(maxClients=1)
        _, network = self.openSocket("http://evil.example")
        self.assertTrue(network.value().startswith(b"HTTP/1.1 403 "))
        network.lose(ConnectionDone())
        _, network = self.accept()
        self.assertEqual(network.value(), b"")

    def test_requestBoundFromAccept(self) -> None:
        """
        A request dripped a header line a second is cut off ten seconds
        after the connection was accepted, whatever came last.
        """
        connection, network = self.accept()
        connection.dataReceived(b"GET / HTTP/1.1\r\n")
        for second in range(9):
            self.fake.clock.advance(1)
            connection.dataReceived(b"X-Drip-%d: 1\r\n" % second)
        self.fake.clock.advance(0.9)
        connection.dataReceived(b"X-Drip-last: 1\r\n")
        self.assertFalse(network.aborted)
        self.fake.clock.advance(0.1)
        self.assertTrue(network.aborted)
        self.assertEqual(network.value(), b"")

    def test_webSocketHasNoDeadline(self) -> None:
        """Once the WebSocket is open, the request's bound is over."""
        socket, network = self.openSocket()
        self.fake.clock.advance(60)
        self.assertFalse(network.aborted)
        self.assertIn(0, self.fake.room.clients)

    def test_bodyRefusedUnread(self) -> None:
        """
        A request with a body is answered 413 as soon as its headers are
        in, without 100 Continue, and closed: what follows is not read.
        """
        for head in [
            "Content-Length: 209715200\r\nExpect: 100-continue",
            "Transfer-Encoding: chunked",
        ]:
            connection, network = self.accept()
            connection.dataReceived(
                f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n\r\n".encode()
                + b"5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            )
            answer = network.value()
            self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
            self.assertEqual(answer.count(b"HTTP/1.1"), 1)
            self.assertTrue(network.disconnecting)

    def test_pageWithEmptyBody(self) -> None:
        """A body of no bytes is no body: the page is served."""
        connection, network = self.accept()
        self.request(
            connection, "GET / HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 0"
        )
        self.assertTrue(network.value().startswith(b"HTTP/1.1 200 "))

    def test_oneRequestAConnection(self) -> None:
        """
        The page's connection closes once it is served, as its answer says:
        with one place an address, the page's WebSocket gets in after it.
        """
        self.fake.room.limits = Limits(maxPerAddress=1)
        connection, network = self.accept()
        self.request(connection, "GET / HTTP/1.1", "Host: 127.0.0.1")
        self.assertIn(b"\r\nConnection: close\r\n", network.value())
        self.assertTrue(network.disconnecting)
        network.lose(ConnectionDone())
        self.openSocket()
        self.assertEqual(list(self.fake.room.clients), [0])

    def test_hostChecked(self) -> None:
        """
        The page and the WebSocket are forbidden (403) to a request for
        another host; a loopback name or address is allowed on loopback.
        """
        for host, status in [
            ("evil.example:8081", b"403"),
            ("localhost:8081", b"200"),
            ("127.0.0.1", b"200"),
            ("[::1]:8081", b"200"),
        ]:
            connection, network = self.accept()
            self.request(connection, "GET / HTTP/1.1", f"Host: {host}")
            self.assertTrue(network.value().startswith(b"HTTP/1.1 " + status), host)
        connection, network = self.accept()
        connection.dataReceived(
            upgradeRequest("http://evil.example:8081", host="evil.example:8081")
        )
        self.assertTrue(network.value().startswith(b"HTTP/1.1 403 "))
        self.assertEqual(self.fake.room.clients, {})

    def test_noSoftwareNamed(self) -> None:
        """
        Every answer says C{Server: chat}, and neither the software nor a
        version: the page, a missing page, a method not allowed, a body
        refused, a host forbidden, the WebSocket opened or refused.
        """
        requests = [
            "GET / HTTP/1.1\r\nHost: 127.0.0.1",
            "HEAD / HTTP/1.1\r\nHost: 127.0.0.1",
            "GET /nothing HTTP/1.1\r\nHost: 127.0.0.1",
            "POST / HTTP/1.1\r\nHost: 127.0.0.1",
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10",
            "GET / HTTP/1.1\r\nHost: evil.example",
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1",
        ]
        answers = []
        for text in requests:
            connection, network = self.accept()
            connection.dataReceived(text.encode() + b"\r\n\r\n")
            answers.append(network.value())
        for page in [None, "http://evil.example"]:
            _, network = self.openSocket(page)
            answers.append(network.value())
        statuses = [answer.split(b" ", 2)[1] for answer in answers]
        self.assertEqual(
            statuses,
            [b"200", b"200", b"404", b"405", b"413", b"403", b"426", b"101", b"403"],
        )
        for answer in answers:
            head = answer.partition(b"\r\n\r\n")[0].lower()
            servers = re.findall(rb"\r\nserver:([^\r]*)", head)
            self.assertLessEqual(set(servers), {b" chat"}, answer)
            self.assertNotRegex(answer.lower(), rb"twisted|autobahn|wsproto|h11|python")
        # The WebSocket's answers, opened or refused, name it too.
        self.assertEqual(sum(b"\r\nServer: chat\r\n" in a for a in answers), 9)


class HostsTests(SynchronousTestCase):
    """Which C{Host} headers the web door serves, on which address."""

    loopback = IPv4Address("TCP", "127.0.0.1", 8081)
    network = IPv4Address("TCP", "192.0.2.7", 8081)

    def allows(self, hosts: Hosts, host: str, local: object) -> bool:
        return hosts.allows([host.encode()], local)  # type: ignore[arg-type]

    def test_ownAddressAnyPort(self) -> None:
        """The address the connection came in on is served, on any port."""
        hosts = Hosts([])
        self.assertTrue(self.allows(hosts, "192.0.2.7:8081", self.network))
        self.assertTrue(self.allows(hosts, "192.0.2.7", self.network))
        self.assertTrue(self.allows(hosts, "192.0.2.7:1", self.network))
        self.assertFalse(self.allows(hosts, "192.0.2.8", self.network))

    def test_loopbackOnLoopbackOnly(self) -> None:
        """localhost, 127.0.0.0/8 and ::1 are served where it came in on loopback."""
        hosts = Hosts([])
        for name in ["localhost", "LocalHost.", "127.0.0.1", "127.1.2.3", "[::1]"]:
            self.assertTrue(self.allows(hosts, f"{name}:8081", self.loopback), name)
            self.assertFalse(self.allows(hosts, f"{name}:8081", self.network), name)
        mapped = IPv6Address("TCP", "::ffff:127.0.0.1", 8081)
        self.assertTrue(self.allows(hosts, "localhost", mapped))
        self.assertTrue(self.allows(hosts, "127.0.0.1", mapped))

    def test_otherNamesRefused(self) -> None:
        """Other names, malformed Hosts and two Hosts at once are refused."""
        hosts = Hosts([])
        for name in [
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "",
            "127.0.0.1:80:80",
            "[127.0.0.1]",
            "a b",
        ]:
            self.assertFalse(self.allows(hosts, name, self.loopback), name)
        self.assertFalse(hosts.allows([b"127.0.0.1", b"127.0.0.1"], self.loopback))

    def test_namesGiven(self) -> None:
        """--web-host names are served wherever the connection came in."""
        hosts = Hosts([hostName("--web-host", "Chat.Example.org")])
        self.assertTrue(self.allows(hosts, "chat.example.org:443", self.network))
        self.assertTrue(self.allows(hosts, "CHAT.example.org", self.loopback))
        unix = UNIXAddress(b"/run/chat.sock")
        self.assertTrue(self.allows(hosts, "chat.example.org", unix))
        self.assertFalse(self.allows(hosts, "localhost", unix))

    def test_noHostIsTheAddressItself(self) -> None:
        """A request without a Host (HTTP/1.0) is for the address it came in on."""
        self.assertTrue(Hosts([]).allows(None, self.network))

    def test_hostNameOption(self) -> None:
        """--web-host takes a name or an address, and keeps it in one form."""
        self.assertEqual(hostName("-", "Chat.Example.org."), "chat.example.org")
        self.assertEqual(hostName("-", "[::1]"), "::1")
        self.assertEqual(hostName("-", "10.0.0.1"), "10.0.0.1")
        for text in ["chat.example.org:80", "", "-a.example", "a..b", "[10.0.0.1]"]:
            with self.assertRaises(BadValueError) as caught:
                hostName("--web-host", text)
            self.assertIn("--web-host", str(caught.exception))


class BadFrameTests(SocketOnFakeRoom):
    """Frames that break the protocol, and bytes that are no frames at all."""

    def closedWith(self, data: bytes) -> int:
        """
        The close code the server sends for C{data}, which fails the
        connection at once: nothing of it reaches the room.
        """
        _, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.frames(network)
        self.fake.received(tcpTransport)
        socket.dataReceived(data)
        self.assertTrue(network.aborted, data)
        frames = self.frames(network)
        self.assertEqual([opcode for opcode, _ in frames], [CLOSE], data)
        network.lose(ConnectionDone())
        self.assertRegex(
            self.fake.received(tcpTransport), rb"\Aserver: client \d+ just left\n\Z"
        )
        return int.from_bytes(frames[0][1][:2], "big")

    def test_closeCodes(self) -> None:
        """
        Bad UTF-8 is 1007; an unknown opcode, an unmasked frame, extension
        bits, a continuation of no message, a fragmented or overlong
        control frame and a length not in its shortest form are 1002.
        """
        unmasked = bytes([0x81, 2]) + b"hi"
        for data, code in [
            (frame(TEXT, b"\xc3\x28"), 1007),
            (frame(TEXT, b"ok ", fin=False) + frame(0, b"\xff"), 1007),
            (frame(0x3, b"x"), 1002),
            (frame(0xB, b"x"), 1002),
            (unmasked, 1002),
            (bytes([0xC1]) + frame(TEXT, b"x")[1:], 1002),
            (frame(0, b"orphan"), 1002),
            (frame(PING, b"x", fin=False), 1002),
            (frame(PING, b"x" * 126), 1002),
            (bytes([0x81, 0x80 | 126, 0, 5]) + CLEAR + b"short", 1002),
        ]:
            self.assertEqual(self.closedWith(data), code, data)

    def test_anyBytesAfterTheUpgrade(self) -> None:
        """
        Whatever bytes follow the upgrade, however they are cut, reading
        them raises nothing, and the room goes on serving its clients.
        """
        tcp, tcpTransport = self.fake.connect()
        for seed in range(200):
            rng = random.Random(seed)
            socket, network = self.openSocket()
            data = rng.randbytes(rng.randint(1, 300))
            position = 0
            while position < len(data) and not network.aborted:
                size = rng.randint(1, 40)
                socket.dataReceived(data[position : position + size])
                position += size
            self.fake.clock.advance(6)
            network.lose(ConnectionDone())
        self.fake.received(tcpTransport)
        other, _ = self.fake.connect()
        other.dataReceived(b"still here\n")
        self.assertIn(b"still here\n", self.fake.received(tcpTransport))


class DoorRequestTests(SocketOnFakeRoom):
    """Requests that are not HTTP, or not one the door serves."""

    def answerTo(self, data: bytes) -> bytes:
        """The door's whole answer to C{data}, which closes the connection."""
        connection, network = self.accept()
        connection.dataReceived(data)
        self.assertTrue(network.disconnecting, data)
        return network.value()

    def test_notHTTP(self) -> None:
        """
        What is not an HTTP request (a TLS hello, a bare line, a head over
        16 KiB) is answered 400 or 431, as C{Server: chat}, and closed.
        """
        for data, status in [
            (bytes.fromhex("16030100a5010000a10303") + b"\0" * 40, b"400"),
            (b"hello\r\n\r\n", b"400"),
            (b"GET / HTTP/1.1\r\nX: " + b"y" * 20000, b"431"),
        ]:
            answer = self.answerTo(data)
            self.assertEqual(answer.split(b" ", 2)[1], status, data[:30])
            self.assertIn(b"\r\nServer: chat\r\n", answer)

    def test_badUpgrades(self) -> None:
        """
        An upgrade without a key or of another version is refused, and
        nothing enters the room; C{/ws/} and others are not the WebSocket.
        """
        good = upgradeRequest().decode()
        for data, status in [
            (
                good.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
                b"400",
            ),
            (good.replace("Version: 13", "Version: 8"), b"426"),
            (good.replace("GET /ws ", "GET /ws/ "), b"404"),
            (good.replace("GET /ws ", "PUT /ws "), b"405"),
        ]:
            answer = self.answerTo(data.encode())
            self.assertEqual(answer.split(b" ", 2)[1], status, data)
        self.assertEqual(self.fake.room.clients, {})


class ClosingHandshakeTests(SocketOnFakeRoom):
    """Either side's close frame, and the other's answer."""

    def test_browsersCloseAnswered(self) -> None:
        """
        A browser's close is answered with its code, and the server then
        closes the connection at once, its producer let go (a TLS transport
        closes only without one); the room hears a clean close.
        """
        _, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.frames(network)
        socket.dataReceived(frame(CLOSE, b"\x03\xe8bye"))
        closing = self.frames(network)
        self.assertEqual(
            [(op, data[:2]) for op, data in closing], [(CLOSE, b"\x03\xe8")]
        )
        self.assertTrue(network.disconnecting)
        self.assertFalse(network.aborted)
        self.assertIsNone(network.producer)
        network.lose(ConnectionDone())
        self.assertIn(b"server: client 1 just left\n", self.fake.received(tcpTransport))
        self.assertIn("closed cleanly", " ".join(map(str, self.fake.events)))

    def test_roomsCloseWaitsForTheAnswer(self) -> None:
        """
        A browser the room closes is sent a close frame (1000), last, and
        has the room's grace to answer it; once it has, the connection is
        closed.  Lines it sends meanwhile are not relayed.
        """
        _, tcpTransport = self.fake.connect()
        socket, network = self.openSocket()
        self.frames(network)
        self.fake.received(tcpTransport)
        self.fake.room.clients[1].close(None)
        self.assertEqual(self.frames(network), [(CLOSE, b"\x03\xe8")])
        self.fake.clock.advance(CLOSE_GRACE - 0.1)
        socket.dataReceived(frame(TEXT, b"too late"))
        self.assertFalse(network.disconnecting)
        socket.dataReceived(frame(CLOSE, b"\x03\xe8"))
        self.assertTrue(network.disconnecting)
        self.assertFalse(network.aborted)
        self.assertEqual(self.frames(network), [])
        network.lose(ConnectionDone())
        self.fake.clock.advance(1)
        self.assertNotIn(b"too late", self.fake.received(tcpTransport))

    def test_noAnswerWithinTheGrace(self) -> None:
        """A browser that does not answer the close is cut off after the grace."""
        socket, network = self.openSocket()
        self.fake.room.clients[0].close(None)
        self.fake.clock.advance(CLOSE_GRACE - 0.1)
        self.assertFalse(network.aborted)
        self.fake.clock.advance(0.1)
        self.assertTrue(network.aborted)
