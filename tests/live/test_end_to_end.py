"""
The real C{twistd -n chat} over loopback sockets.
"""

from __future__ import annotations

import re
import selectors
import signal
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.live import DEADLINE, Client, StartServer, run, waitFor


@pytest.mark.live
def test_threeClientsChat(startServer: StartServer) -> None:
    """
    Three clients chat: each line reaches the other two and not its sender,
    a CRLF ends a line as LF does, an empty line is relayed, and a departure
    is announced.
    """
    server = startServer()
    a, b, c = server.connect(), server.connect(), server.connect()
    a.send(b"hello everyone\n")
    b.expect(b"client 0: hello everyone\n")
    c.expect(b"client 0: hello everyone\n")
    b.send(b"hi a\r\n")
    a.expect(b"client 1: hi a\n")
    c.expect(b"client 1: hi a\n")
    c.send(b"\n")
    a.expect(b"client 2: \n")
    b.expect(b"client 2: \n")
    c.close()
    a.expect(b"server: client 2 just left\n")
    b.expect(b"server: client 2 just left\n")
    a.send(b"sentinel\n")
    b.expect(b"client 0: sentinel\n")
    b.send(b"sentinel\n")
    a.expect(b"client 1: sentinel\n")


@pytest.mark.live
def test_lineDribbledByteByByte(startServer: StartServer) -> None:
    """A line sent a byte at a time is relayed once, whole, without its CR."""
    server = startServer()
    sender, reader = server.connect(), server.connect()
    sender.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for byte in b"one byte at a time\r\n":
        sender.send(bytes([byte]))
    reader.expect(b"client 0: one byte at a time\n")


@pytest.mark.live
def test_oneMebibyteLineArrivesInPieces(startServer: StartServer) -> None:
    """
    A line of a mebibyte is relayed in pieces of the longest line, 64 KiB,
    and its sender stays connected.
    """
    server = startServer()
    sender, reader = server.connect(), server.connect()
    line = bytes(range(256)).replace(b"\n", b"N") * 4096
    sender.send(line + b"\n")
    for start in range(0, len(line), 65536):
        reader.expect(b"client 0: " + line[start : start + 65536] + b"\n")
    sender.send(b"still here\n")
    reader.expect(b"client 0: still here\n")


@pytest.mark.live
def test_binaryBytesRelayedUnchangedAndEscapedInLog(startServer: StartServer) -> None:
    """
    Every byte but the newline is relayed as it is, while the log shows the
    bytes that are not printable ASCII escaped, and no NUL.
    """
    server = startServer()
    sender, reader = server.connect(), server.connect()
    payload = bytes(b for b in range(256) if b != 0x0A)
    sender.send(payload + b"\n")
    reader.expect(b"client 0: " + payload + b"\n")
    server.stop()
    escaped = "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in payload)
    log = server.logText()
    assert f"[RX] [client 0] {escaped}\n" in log
    assert "\x00" not in log


@pytest.mark.live
def test_partialLineThenClose(startServer: StartServer) -> None:
    """
    A last line without its newline is relayed when its sender closes,
    before the departure.
    """
    server = startServer()
    sender, reader = server.connect(), server.connect()
    sender.send(b"complete\nno newline")
    sender.close()
    reader.expect(
        b"client 0: complete\nclient 0: no newline\nserver: client 0 just left\n"
    )


@pytest.mark.live
def test_abruptReset(startServer: StartServer) -> None:
    """
    A client that resets its connection mid-line has that line relayed, is
    announced gone, and the server goes on serving old clients and new.
    """
    server = startServer()
    sender, reader = server.connect(), server.connect()
    sender.send(b"cut off")
    witness = server.connect()
    witness.send(b"sentinel\n")
    reader.expect(b"client 2: sentinel\n")
    sender.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sender.close()
    reader.expect(b"client 0: cut off\nserver: client 0 just left\n")
    late = Client(server.port)
    reader.expect(b"server: client 3 just arrived\n")
    reader.send(b"server survived\n")
    late.expect(b"client 1: server survived\n")


@pytest.mark.live
def test_halfClose(startServer: StartServer) -> None:
    """
    A client that shuts down its sending side has its last line relayed and
    is announced gone, and the server closes the connection.
    """
    server = startServer()
    sender, reader = server.connect(), server.connect()
    sender.send(b"last words")
    sender.sock.shutdown(socket.SHUT_WR)
    reader.expect(b"client 0: last words\nserver: client 0 just left\n")
    assert sender.readToEnd() == b""


@pytest.mark.live
def test_twoHundredClientsTenSenders(startServer: StartServer) -> None:
    """
    With 200 clients, ten of them sending 30 lines at once, every client
    receives every other sender's lines in the order sent, and none of its
    own.
    """
    server = startServer()
    clients = [Client(server.port) for _ in range(200)]
    clients[0].expect(arrivals(range(1, 200)))
    lines = 30
    for sender in range(10):
        clients[sender].send(
            b"".join(b"line %d from %d\n" % (n, sender) for n in range(lines))
        )

    def linesFrom(sender: int) -> list[bytes]:
        return [
            b"client %d: line %d from %d\n" % (sender, n, sender) for n in range(lines)
        ]

    def notices(receiver: int) -> bytes:
        """Arrivals not read yet: all of them but client 0's."""
        return arrivals(range(receiver + 1, 200)) if receiver else b""

    def expectedSize(receiver: int) -> int:
        relayed = sum(len(b"".join(linesFrom(s))) for s in range(10) if s != receiver)
        return len(notices(receiver)) + relayed

    received = readAll(clients, expectedSize)
    for receiver, data in enumerate(received):
        unread = notices(receiver)
        assert data.startswith(unread)
        relayed = re.findall(rb"client \d+: [^\n]*\n", data[len(unread) :])
        for sender in range(10):
            mine = [line for line in relayed if line.startswith(b"client %d:" % sender)]
            assert mine == ([] if sender == receiver else linesFrom(sender))
    for client in clients:
        client.close()


def arrivals(clientIds: range) -> bytes:
    return b"".join(b"server: client %d just arrived\n" % i for i in clientIds)


def readAll(clients: list[Client], size: Callable[[int], int]) -> list[bytes]:
    """Read from every client at once until each has C{size(index)} bytes."""
    selector = selectors.DefaultSelector()
    data = [client.buffer for client in clients]
    for i, client in enumerate(clients):
        client.sock.setblocking(False)
        if len(data[i]) < size(i):
            selector.register(client.sock, selectors.EVENT_READ, i)
    end = time.monotonic() + DEADLINE
    while selector.get_map() and time.monotonic() < end:
        for key, _ in selector.select(timeout=1):
            i = key.data
            chunk = clients[i].sock.recv(1 << 16)
            data[i] += chunk
            if not chunk or len(data[i]) >= size(i):
                selector.unregister(key.fileobj)
    assert not selector.get_map(), f"{len(selector.get_map())} clients still waiting"
    return data


@pytest.mark.live
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_shutdownOnSignal(startServer: StartServer, signum: int) -> None:
    """
    On SIGTERM or SIGINT the server tells every client it is shutting down,
    closes them, logs how many there were and that it stopped, and exits
    with 0.
    """
    server = startServer()
    clients = [server.connect() for _ in range(3)]
    assert server.stop(signum) == 0
    for client in clients:
        assert client.readToEnd() == b"server: shutting down\n"
    log = server.logText()
    assert "[stop] shutting down, 3 clients connected" in log
    assert log.rstrip().endswith("[stop] stopped")


@pytest.mark.live
def test_badArgumentsOneLineNoTraceback(tmp_path: Path) -> None:
    """
    Bad arguments make the server exit in failure with one line that names
    the option, and no traceback.
    """
    for arguments, option in [
        (["--port", "abc"], "--port"),
        (["--port", "70000"], "--port"),
        (["--log-level", "loud"], "--log-level"),
        (["--listen", "ssl:0:privateKey=missing.pem"], "--listen"),
        (["--max-line", "0"], "--max-line"),
    ]:
        done = run(*arguments, cwd=tmp_path)
        assert done.returncode != 0
        assert done.stderr.count("\n") == 1 and option in done.stderr, done.stderr
        assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.live
def test_busyPort(tmp_path: Path) -> None:
    """
    A port already in use makes the server exit in failure with one line
    that says so, and no traceback; the log says so too.
    """
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("--port", str(port), cwd=tmp_path)
    assert done.returncode != 0
    assert "Address already in use" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "Address already in use" in (tmp_path / "mini_serv.log").read_text()


@pytest.mark.live
def test_unixSocketListener(startServer: StartServer, tmp_path: Path) -> None:
    """
    A Unix socket listener serves clients in the same room as TCP ones, and
    the log names such a client by its socket.
    """
    server = startServer(
        "--listen", "tcp:0:interface=127.0.0.1", "--listen", "unix:chat.sock"
    )
    path = str(tmp_path / "chat.sock")
    waitFor(
        lambda: "listening on unix chat.sock\n" in server.logText(), "the unix listener"
    )
    tcp = server.connect()
    local = socket.socket(socket.AF_UNIX)
    local.connect(path)
    tcp.expect(b"server: client 1 just arrived\n")
    local.sendall(b"over unix\n")
    tcp.expect(b"client 1: over unix\n")
    local.close()
    tcp.expect(b"server: client 1 just left\n")
    waitFor(
        lambda: "client 1 connected from unix:chat.sock" in server.logText(),
        "the UNIX client in the log, named by its socket",
    )


@pytest.mark.live
def test_logRecordsTheSession(startServer: StartServer) -> None:
    """
    The log records a session line by line: the listener, the connection
    with its address, the line received, its broadcast and the departure.
    """
    server = startServer()
    a, b = server.connect(), server.connect()
    a.send(b"hello everyone\n")
    b.expect(b"client 0: hello everyone\n")
    a.close()
    b.expect(b"server: client 0 just left\n")
    server.stop()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"
    body = [re.sub(f"^{stamp} ", "", line) for line in server.logText().splitlines()]
    assert (
        body[0] == f"[INFO] [server] [start] listening on tcp 127.0.0.1:{server.port}"
    )
    assert re.fullmatch(
        r"\[INFO\] \[server\] \[STATE\] client 0 connected from 127\.0\.0\.1:\d+",
        body[1],
    )
    assert body[3:6] == [
        "[INFO] [server] [RX] [client 0] hello everyone",
        "[INFO] [server] [BROADCAST] to 1 client",
        "[INFO] [server] [STATE] client 0 disconnected (connection closed cleanly)",
    ]


@pytest.mark.live
def test_slowReaderGetsEverythingInOrder(startServer: StartServer) -> None:
    """
    Output that a client's socket cannot take at once is held and sent on
    when it reads again, in order, while the others are served at once.
    """
    server = startServer()
    sender, eager, lazy = server.connect(), server.connect(), server.connect()
    lines = [b"%06d " % n + b"x" * 993 + b"\n" for n in range(16384)]
    framed = b"".join(b"client 0: " + line for line in lines)
    for start in range(0, len(lines), 1024):
        sender.send(b"".join(lines[start : start + 1024]))
        eager.expect(
            b"".join(b"client 0: " + line for line in lines[start : start + 1024])
        )
    lazy.expect(framed)
    sender.send(b"after\n")
    lazy.expect(b"client 0: after\n")


@pytest.mark.live
def test_nothingRelayedAfterTheShutdownNotice(startServer: StartServer) -> None:
    """
    Lines a sender never finished are not made up at shutdown, and nothing
    at all reaches anyone after C{server: shutting down}.
    """
    server = startServer()
    reader, flooder, talker = (server.connect() for _ in range(3))
    flooder.send(b"F1 " + b"w" * 5000)  # a line it never ends
    talker.send(b"last whole line\nhalf a li")
    reader.expect(b"client 2: last whole line\n")
    assert server.stop() == 0
    assert reader.readToEnd() == b"server: shutting down\n"
    assert talker.readToEnd() == b"server: shutting down\n"
    assert flooder.readToEnd() == b"client 2: last whole line\nserver: shutting down\n"
