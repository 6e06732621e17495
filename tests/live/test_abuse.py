"""
The limits (SendQ, flood control, clients, idle time) against the real
server: clients that never read, clients that flood, connection storms,
garbage, TLS.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import ssl
import struct
import threading
import time
from pathlib import Path

import pytest
import trustme

from tests.support.live import DEADLINE, Client, Server, StartServer, waitFor

MiB = 1 << 20


class Reader(threading.Thread):
    """
    Reads a client's socket in the background until the server closes it,
    noting how many bytes had arrived when each of the C{markers} did.
    """

    def __init__(self, client: Client, markers: tuple[bytes, ...] = ()) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.chunks: list[bytes] = []
        self.size = 0
        self.seen: dict[bytes, int] = {}
        self._markers = markers
        self.start()

    def run(self) -> None:
        tail = b""
        try:
            while chunk := self.client.sock.recv(1 << 20):
                self.chunks.append(chunk)
                self.size += len(chunk)
                window = tail + chunk
                for marker in self._markers:
                    if marker not in self.seen and marker in window:
                        self.seen[marker] = self.size
                tail = window[-64:]
        except OSError:
            pass

    def data(self) -> bytes:
        return b"".join(self.chunks)

    def waitForSize(self, size: int) -> None:
        waitFor(lambda: self.size >= size, f"{size} bytes (have {self.size})")


def lines(count: int, size: int) -> list[bytes]:
    return [b"%08d " % n + b"x" * (size - 10) + b"\n" for n in range(count)]


def framed(clientId: int, sent: list[bytes]) -> bytes:
    return b"".join(b"client %d: " % clientId + line for line in sent)


@pytest.mark.live
def test_clientThatNeverReadsIsCutAtTheHardLimit(startServer: StartServer) -> None:
    """
    A client that never reads is cut off at the SendQ hard limit, logged
    with why, while a reader gets the whole flood and the server stays under
    300 MB.
    """
    server = startServer()
    sender = Client(server.port)
    reader = Client(server.port)
    lazy = Client(server.port)
    lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    reader.expect(b"server: client 2 just arrived\n")
    sent = floodPastALazyReader(server, sender, reader)
    assert len(readUntilClosed(lazy)) < sent


def floodPastALazyReader(server: Server, sender: Client, reader: Client) -> int:
    """
    C{sender} (client 0) sends 64 MiB while client 2 does not read: client
    2 is cut off at the hard limit, C{reader} gets everything, and the
    server stays under 300 MB.

    @return: the bytes the lazy reader should have had.
    """
    background = Reader(reader)
    flood = lines(65536, 1024)  # 64 MiB
    for start in range(0, len(flood), 4096):
        sender.send(b"".join(flood[start : start + 4096]))
    expected = framed(0, flood)
    left = b"server: client 2 just left\n"
    background.waitForSize(len(expected) + len(left))
    received = background.data()
    assert received.count(left) == 1
    assert received.replace(left, b"") == expected
    assert server.peakMemory() < 300 * MiB
    waitFor(
        lambda: (
            "[WARN] [server] [STATE] client 2 cut off: SendQ exceeded"
            in server.logText()
        ),
        "the log to say why",
    )
    assert "hard limit 33554432" in server.logText()
    return len(expected)


def readUntilClosed(client: Client) -> bytes:
    """What arrives before the server closes or resets the connection."""
    data = client.buffer
    try:
        while chunk := client.sock.recv(1 << 20):
            data += chunk
    except ConnectionResetError:
        pass
    return data


@pytest.mark.live
def test_withoutSendQLimitsALazyClientIsNeverCut(startServer: StartServer) -> None:
    """
    With C{--sendq 0} a client that reads slowly is never cut off: it gets
    all of 8 MiB, past the default soft limit.
    """
    server = startServer("--sendq", "0")
    sender, lazy = server.connect(), server.connect()
    lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    flood = lines(8192, 1024)  # 8 MiB, past the default soft limit
    sender.send(b"".join(flood))
    sender.send(b"done\n")
    lazy.expect(framed(0, flood) + b"client 0: done\n")
    assert "cut off" not in server.logText()


@pytest.mark.live
def test_floodControlThrottlesWithoutLoss(startServer: StartServer) -> None:
    """
    Flood control slows a flooder down to its rate without losing a byte of
    what it sent, and another client's line is not held up behind the flood.
    """
    server = startServer("--flood-rate", "200", "--flood-burst", "10")
    flooder, reader, other = server.connect(), server.connect(), server.connect()
    sent = lines(300, 64)
    started = time.monotonic()
    flooder.send(b"".join(sent))
    other.send(b"not held up\n")
    background = Reader(reader, markers=(b"client 2: not held up\n",))
    waitFor(lambda: background.seen, "the other line")
    # Not held up behind the flood: it lands before the flood's last line.
    assert background.seen[b"client 2: not held up\n"] < len(framed(0, sent))
    background.waitForSize(len(framed(0, sent)) + len(b"client 2: not held up\n"))
    elapsed = time.monotonic() - started
    assert background.data().replace(b"client 2: not held up\n", b"") == framed(0, sent)
    assert elapsed >= (300 - 10) / 200 * 0.8


@pytest.mark.live
def test_floodControlWarnsOnceInTheLog(startServer: StartServer) -> None:
    """
    The server log has one WARN line naming a client that flood control
    holds back, by id and address; held back again at once, it gets no
    second: the next WARN line is another client's.
    """
    server = startServer("--flood-rate", "10", "--flood-burst", "1")
    flooder, other, reader = server.connect(), server.connect(), server.connect()
    flooder.send(b"a\nb\nc\n")  # held back after a, and again after b
    reader.expect(b"client 0: a\nclient 0: b\nclient 0: c\n")
    other.send(b"x\ny\n")
    reader.expect(b"client 1: x\nclient 1: y\n")
    pattern = re.compile(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[WARN\] \[server\] \[STATE\]"
        r" client (\d) from 127\.0\.0\.1:(\d+) held back by flood control"
        r" \(--flood-rate 10, --flood-burst 1\)$",
        re.MULTILINE,
    )

    def warnings() -> list[tuple[str, ...]]:
        return [m.groups() for m in pattern.finditer(server.logText())]

    waitFor(lambda: len(warnings()) >= 2, "the second client's warning")
    assert warnings() == [
        ("0", str(flooder.sock.getsockname()[1])),
        ("1", str(other.sock.getsockname()[1])),
    ]


@pytest.mark.live
def test_connectionStormThenNormalChat(startServer: StartServer) -> None:
    """
    After 2000 connections opened and closed at once, every arrival is
    announced before its departure, in order of ids, and the server chats
    on.
    """
    server = startServer()
    watcher = server.connect()
    for _ in range(2000):
        socket.create_connection(("127.0.0.1", server.port)).close()
    notices = 2 * 2000 * len(b"server: client 1000 just arrived\n")
    background = Reader(watcher)
    waitFor(lambda: background.data().count(b"\n") == 4000, "4000 notices")
    events = re.findall(
        rb"server: client (\d+) just (arrived|left)\n", background.data()
    )
    assert len(events) == 4000 and background.size < notices
    arrivals = [int(n) for n, what in events if what == b"arrived"]
    assert arrivals == list(range(1, 2001))
    for n in arrivals:
        assert events.index((b"%d" % n, b"arrived")) < events.index(
            (b"%d" % n, b"left")
        )
    talker = Client(server.port)
    talker.send(b"still standing\n")
    waitFor(
        lambda: background.data().endswith(
            b"server: client 2001 just arrived\nclient 2001: still standing\n"
        ),
        "the talker's line",
    )


@pytest.mark.live
def test_garbageFromTwentyClientsThenNormalChat(startServer: StartServer) -> None:
    """
    After twenty clients send random bytes and leave, the server has relayed
    something of each, and chats on.
    """
    server = startServer("--max-line", "1000")
    watcher = server.connect()
    noise = random.Random(1234)
    garbage = [bytes(noise.getrandbits(8) for _ in range(20000)) for _ in range(20)]
    for blob in garbage:
        with socket.create_connection(("127.0.0.1", server.port)) as vandal:
            vandal.sendall(blob)
    background = Reader(watcher)
    waitFor(
        lambda: background.data().count(b"just left\n") == 20, "20 vandals to leave"
    )
    talker = Client(server.port)
    waitFor(lambda: b"client 21 just arrived\n" in background.data(), "the talker")
    talker.send(b"still standing\n")
    waitFor(
        lambda: background.data().endswith(b"client 21: still standing\n"), "a line"
    )
    relayed = re.findall(rb"client (\d+): ", background.data())
    assert set(relayed) == {b"%d" % n for n in range(1, 22)}


@pytest.mark.live
def test_serverFull(startServer: StartServer) -> None:
    """
    Past C{--max-clients} a newcomer is told the server is full and closed,
    the clients in the room chat on, and the log says who was turned away.
    """
    server = startServer("--max-clients", "2")
    first, second = server.connect(), server.connect()
    third = Client(server.port)
    assert third.readToEnd() == b"server: server full\n"
    first.send(b"only two of us\n")
    second.expect(b"client 0: only two of us\n")
    second.send(b"sentinel\n")
    first.expect(b"client 1: sentinel\n")
    waitFor(lambda: "turned away 127.0.0.1" in server.logText(), "the log to say so")


@pytest.mark.live
def test_idleClientIsDismissed(startServer: StartServer) -> None:
    """
    A client silent for longer than C{--idle-timeout} is told so and closed,
    while one that keeps talking stays, and sees it leave.
    """
    server = startServer("--idle-timeout", "1")
    silent, talker = server.connect(), server.connect()
    started = time.monotonic()
    while time.monotonic() - started < 1.6:
        talker.send(b"ping\n")
        time.sleep(0.2)  # being active for a while is what is tested
    received = silent.readToEnd()
    assert received.endswith(b"server: idle for too long, disconnecting\n")
    assert set(received.splitlines()[:-1]) == {b"client 1: ping"}
    talker.expect(b"server: client 0 just left\n")


@pytest.mark.live
def test_tlsChat(startServer: StartServer, tmp_path: Path) -> None:
    """
    Clients chat over a TLS listener as over TCP: arrivals, lines ending
    with CRLF, departures.
    """
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    server = startServer(
        "--listen", "ssl:0:interface=127.0.0.1:privateKey=key.pem:certKey=cert.pem"
    )
    context = ssl.create_default_context()
    authority.configure_trust(context)

    def connect() -> ssl.SSLSocket:
        plain = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
        return context.wrap_socket(plain, server_hostname="127.0.0.1")

    alice = connect()
    bob = connect()
    assert readLine(alice) == b"server: client 1 just arrived\n"
    bob.sendall(b"hello over TLS\r\n")
    assert readLine(alice) == b"client 1: hello over TLS\n"
    bob.close()
    assert readLine(alice) == b"server: client 1 just left\n"


def readLine(sock: socket.socket) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        byte = sock.recv(1)
        assert byte, f"closed after {line!r}"
        line += byte
    return line


@pytest.mark.live
def test_floodingClientDoesNotStarveOthers(startServer: StartServer) -> None:
    """
    While one client floods, another's lines are read at once: each lands in
    the reader's stream among the flood lines the flooder had sent by then,
    not after the flood.  (Measured in bytes, not time: the reader's own
    backlog delays everything it receives alike.)
    """
    server = startServer("--sendq", "0")
    flooder, reader, speaker = server.connect(), server.connect(), server.connect()
    markers = tuple(b"client 2: mark %d\n" % n for n in range(10))
    background = Reader(reader, markers)
    block = b"".join(lines(1024, 128))
    floodSent = 0
    stop = time.monotonic() + 2.0

    def flood() -> None:
        nonlocal floodSent
        for _ in range(384):  # 48 MiB at most
            if time.monotonic() > stop:
                break
            flooder.send(block)
            floodSent += len(block)

    threading.Thread(target=flood, daemon=True).start()
    sentAt = []
    for n in range(10):
        sentAt.append(floodSent)
        speaker.send(b"mark %d\n" % n)
        time.sleep(0.1)  # a person typing, while the flood goes on
    waitFor(lambda: len(background.seen) == 10, "every mark")
    stream = background.data()
    for marker, sent in zip(markers, sentAt, strict=True):
        before = stream[: stream.index(marker)]
        floodBefore = before.count(b"\nclient 0: ") * 128
        assert floodBefore - sent < 8 * MiB, (marker, floodBefore, sent)


@pytest.mark.live
def test_runningOutOfFileDescriptorsIsSurvived(startServer: StartServer) -> None:
    """
    A server out of file descriptors warns of its low limit, logs EMFILE,
    and serves new clients once the crowd is gone.
    """
    server = startServer(openFiles=64)
    waitFor(
        lambda: "open-file limit 64 (hard limit 64)" in server.logText(), "a warning"
    )
    crowd = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(80)]
    waitFor(lambda: "EMFILE" in server.logText(), "the server to say it ran out")
    for sock in crowd:
        sock.close()
    first = Client(server.port)
    background = Reader(first, markers=(b": still standing\n",))
    second = Client(server.port)
    second.send(b"still standing\n")
    waitFor(lambda: background.seen, "a line between two new clients")


@pytest.mark.live
def test_tlsClientThatNeverReadsIsCutAtTheHardLimit(
    startServer: StartServer, tmp_path: Path
) -> None:
    """
    A client over TLS that never reads is cut off at the SendQ hard limit as
    a TCP one is, while a reader gets the whole flood.
    """
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    server = startServer(
        "--listen",
        "tcp:0:interface=127.0.0.1",
        "--listen",
        "ssl:0:interface=127.0.0.1:privateKey=key.pem:certKey=cert.pem",
    )
    tlsPort = int(
        waitFor(
            lambda: re.search(r"listening on ssl 127\.0\.0\.1:(\d+)", server.logText()),
            "the TLS listener",
        ).group(1)
    )
    sender = server.connect()
    reader = server.connect()
    context = ssl.create_default_context()
    authority.configure_trust(context)
    plain = socket.socket()
    plain.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    plain.settimeout(DEADLINE)
    plain.connect(("127.0.0.1", tlsPort))
    lazy = context.wrap_socket(plain, server_hostname="127.0.0.1")
    reader.expect(b"server: client 2 just arrived\n")
    floodPastALazyReader(server, sender, reader)
    lazy.close()


@pytest.mark.live
def test_leavingDoesNotBypassFloodControl(startServer: StartServer) -> None:
    """
    Ten flooders each send a mebibyte of empty lines and reset their
    connection: what they get through is what their allowance permits over
    the time they were connected, not what the server had read when they left.
    """
    server = startServer("--flood-rate", "1", "--flood-burst", "1")
    reader = server.connect()
    started = time.monotonic()
    flooders = [server.connect() for _ in range(10)]
    for flooder in flooders:
        flooder.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            flooder.sock.send(b"\n" * MiB)
    for flooder in flooders:
        flooder.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        flooder.close()
    left = [b"server: client %d just left\n" % n for n in range(1, 11)]
    background = Reader(reader, markers=tuple(left))
    waitFor(lambda: len(background.seen) == len(left), "every flooder to leave")
    elapsed = time.monotonic() - started
    sentinel = Client(server.port)
    sentinel.send(b"the end\n")
    background.waitForSize(len(background.data()) + len(b"client 11: the end\n"))
    relayed = re.findall(rb"client \d+: \n", background.data())
    assert len(relayed) <= 10 * (1 + elapsed), (len(relayed), elapsed)
    assert background.data().endswith(b"client 11: the end\n")
    waitFor(
        lambda: "past its flood allowance; dropped" in server.logText(),
        "the log to count what was dropped",
    )


@pytest.mark.live
def test_idleClientWithOutputPendingIsGoneAndClosed(
    startServer: StartServer,
) -> None:
    """
    An idle client that does not read its pending output is announced gone
    at once and its connection is aborted, even without SendQ limits.
    """
    server = startServer("--idle-timeout", "1", "--sendq", "0")
    silent = Client(server.port)
    silent.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 12)
    talker = Client(server.port)
    talker.send(b"x" * (4 * MiB) + b"\n")
    left = b"server: client 0 just left\n"
    background = Reader(talker, markers=(left,))

    def stillTalking() -> bool:
        talker.send(b"ping\n")
        return left in background.seen

    waitFor(stillTalking, "the silent client's leave notice, at once")
    waitFor(
        lambda: "client 0 disconnected (connection aborted" in server.logText(),
        "the silent client, which does not read, to be cut off",
    )
    silent.close()


@pytest.mark.live
def test_floodControlKeepsEveryByte(startServer: StartServer) -> None:
    """
    Lines held back by flood control reach the others exactly as they would
    have without it: a CR kept before a CRLF, or at the end of a piece of
    --max-line bytes, stays.
    """
    server = startServer("--max-line", "8", "--flood-rate", "20", "--flood-burst", "1")
    flooder, reader = server.connect(), server.connect()
    flooder.send(b"a\r\r\nb\r\r\nc\r\r\n1234567\r89\n")
    reader.expect(
        b"client 0: a\r\nclient 0: b\r\nclient 0: c\r\n"
        b"client 0: 1234567\r\nclient 0: 89\n"
    )
