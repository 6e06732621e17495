"""
Browsers in the room over real sockets: C{twistd chat --web} with raw
WebSocket clients beside TCP clients.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme

from chat.core.text import plural
from tests.support.live import DEADLINE, Client, Server, StartServer, waitFor
from tests.support.tools import runTool
from tests.support.webclient import (
    BINARY,
    CLOSE,
    PING,
    TEXT,
    WEB,
    HandshakeRefusedError,
    WebClient,
    frame,
    upgradeRequest,
    webPort,
)

pytestmark = pytest.mark.live


def joinWeb(
    server: Server,
    origin: str | None = None,
    receiveBuffer: int | None = None,
    context: ssl.SSLContext | None = None,
) -> WebClient:
    """
    A WebSocket client, once it has been told its id and every client
    before it has seen it arrive (it takes the next id).
    """
    port = webPort(server)
    scheme = "http" if context is None else "https"
    web = WebClient(
        port,
        origin=origin or f"{scheme}://127.0.0.1:{port}",
        receiveBuffer=receiveBuffer,
        context=context,
    )
    clientId = len(server.clients)
    labels = [f"client {each}" for each in range(clientId + 1)]
    web.expect(
        f"server: you are client {clientId}",
        f"server: {plural(len(labels), 'client')}: {', '.join(labels)}",
    )
    for other in server.clients:
        other.expect(b"server: client %d just arrived\n" % clientId)
    server.clients.append(web)  # type: ignore[arg-type]
    return web


def test_browserAndSocketChat(startServer: StartServer) -> None:
    """
    A WebSocket client and a TCP client see each other as two TCP clients
    do: arrival, lines both ways, departure; bytes that are not UTF-8 reach
    the browser with U+FFFD and the TCP client unchanged.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    web = joinWeb(server)
    other = server.connect()  # the browser sees it arrive
    web.send("hello from the browser ✓")
    tcp.expect("client 1: hello from the browser ✓\n".encode())
    other.expect("client 1: hello from the browser ✓\n".encode())
    tcp.send(b"hi \xff\xfe there\n\n")
    web.expect("client 0: hi \ufffd\ufffd there", "client 0: ")
    other.expect(b"client 0: hi \xff\xfe there\nclient 0: \n")
    web.close()
    tcp.expect(b"server: client 1 just left\n")
    other.expect(b"server: client 1 just left\n")
    waitFor(
        lambda: re.search(
            r"\[STATE\] client 1 connected from 127\.0\.0\.1:\d+ \(web\)",
            server.logText(),
        ),
        "the log to name the client's kind",
    )


def test_longFrameCutIntoLines(startServer: StartServer) -> None:
    """A frame longer than --max-line reaches others in pieces, as over TCP."""
    server = startServer(*WEB, "--max-line", "1000")
    tcp = server.connect()
    web = joinWeb(server)
    web.send("a" * 2500)
    tcp.expect(
        b"client 1: " + b"a" * 1000 + b"\n"
        b"client 1: " + b"a" * 1000 + b"\n"
        b"client 1: " + b"a" * 500 + b"\n"
    )


def test_framesRightBehindTheUpgradeRequest(startServer: StartServer) -> None:
    """
    Frames a client sends with its upgrade request, without waiting for the
    answer, are relayed in order, before what it sends next.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    early = frame(TEXT, b"first") + frame(TEXT, b"sec", fin=False) + frame(0, b"ond")
    web = WebClient(webPort(server), early=early)
    web.expect("server: you are client 1", "server: 2 clients: client 0, client 1")
    web.send("third")
    tcp.expect(
        b"server: client 1 just arrived\n"
        b"client 1: first\nclient 1: second\nclient 1: third\n"
    )


def test_unfinishedMessagesNotRelayed(startServer: StartServer) -> None:
    """
    Nothing of a message cut off by the connection's end reaches the room:
    one that ends in the middle of a character, a fragment the connection
    fails after, a fragment the client closes after.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    cutCharacter, failed, closed = (joinWeb(server) for _ in range(3))
    cutCharacter.sock.sendall(frame(TEXT, b"caf\xc3"))
    tcp.expect(b"server: client 1 just left\n")
    failed.sock.sendall(frame(TEXT, b"half", fin=False) + frame(TEXT, b"other"))
    tcp.expect(b"server: client 2 just left\n")
    closed.sock.sendall(frame(TEXT, b"half", fin=False))
    closed.send(b"\x03\xe8", CLOSE)
    assert closed.closeCode() == 1000
    tcp.expect(b"server: client 3 just left\n")
    other = Client(server.port)
    tcp.expect(b"server: client 4 just arrived\n")
    other.send(b"sentinel\n")
    tcp.expect(b"client 4: sentinel\n")


def test_binaryFrameRefused(startServer: StartServer) -> None:
    """
    A binary frame closes the WebSocket with 1003 and its client leaves the
    room; the server serves on.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    web = joinWeb(server)
    web.send(b"binary\n", BINARY)
    assert web.closeCode() == 1003
    web.close()
    tcp.expect(b"server: client 1 just left\n")
    other = Client(server.port)
    tcp.expect(b"server: client 2 just arrived\n")
    tcp.send(b"sentinel\n")
    other.expect(b"client 0: sentinel\n")


def test_otherOriginRefused(startServer: StartServer) -> None:
    """
    A page of another origin cannot open the WebSocket unless allowed by
    --web-origin; nobody hears of the refused one.
    """
    server = startServer(*WEB, "--web-origin", "https://chat.example.org")
    tcp = server.connect()
    port = webPort(server)
    with pytest.raises(HandshakeRefusedError) as refused:
        WebClient(port, origin="http://evil.example")
    assert b" 403 " in refused.value.status
    joinWeb(server, origin="https://chat.example.org")
    tcp.send(b"sentinel\n")
    server.clients[1].expect("client 0: sentinel")  # type: ignore[arg-type]
    waitFor(
        lambda: "origin 'http://evil.example' is not allowed" in server.logText(),
        "the log to say why",
    )


def test_programWithoutOriginLetIn(startServer: StartServer) -> None:
    """
    A WebSocket client that sends no C{Origin}, a program and not a browser,
    is let in.
    """
    server = startServer(*WEB)
    port = webPort(server)
    web = WebClient(port, origin=None)
    web.expect("server: you are client 0", "server: 1 client: client 0")


def tlsWeb(directory: Path) -> tuple[tuple[str, str], ssl.SSLContext]:
    """
    The options of a web site over TLS with a certificate in C{directory},
    and a context that trusts it.
    """
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    certificate.private_key_pem.write_to_path(str(directory / "key.pem"))
    certificate.cert_chain_pems[0].write_to_path(str(directory / "cert.pem"))
    context = ssl.create_default_context()
    authority.configure_trust(context)
    endpoint = "ssl:0:interface=127.0.0.1:privateKey=key.pem:certKey=cert.pem"
    return ("--web", endpoint), context


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_lazyReaderCutAtSendQ(
    startServer: StartServer, tmp_path: Path, tls: bool
) -> None:
    """
    A WebSocket client that reads nothing is cut off at the SendQ limit;
    the others lose nothing and hear it leave.  Over TCP the frames go on
    the socket directly, over TLS through the TLS transport.
    """
    options, context = tlsWeb(tmp_path) if tls else (WEB, None)
    server = startServer(*options, "--sendq", "256K")
    tcp = server.connect()
    lazy = joinWeb(server, receiveBuffer=4096, context=context)
    reader = server.connect()
    batch = b"".join(b"%08d " % index + b"x" * 990 + b"\n" for index in range(100))
    left = b"server: client 1 just left\n"
    expected, received, seen = bytearray(), bytearray(), False
    for _ in range(200):  # 20 MB at most; the limit is 256 KiB
        tcp.send(batch)
        expected += b"client 0: " + batch.replace(b"\n", b"\nclient 0: ")[:-10]
        while len(received) < len(expected) + len(left) * seen:
            chunk = reader.sock.recv(1 << 20)
            seen = seen or left in received[-len(left) :] + chunk
            received += chunk
        if seen:
            break
    assert received.count(left) == 1
    assert received.replace(left, b"") == expected
    waitFor(
        lambda: re.search(r"client 1 cut off: SendQ exceeded", server.logText()),
        "the log to say why",
    )
    lazy.close()


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_pingsOfALazyReaderCutAtSendQ(
    startServer: StartServer, tmp_path: Path, tls: bool
) -> None:
    """
    A WebSocket client that sends pings and reads nothing is cut off once
    the pongs held for it pass the SendQ limit, though nobody in the room
    speaks: the others hear it leave, and the log says why.  Over TLS as
    well: the pongs are held in its send queue, not in the TLS transport.
    """
    options, context = tlsWeb(tmp_path) if tls else (WEB, None)
    server = startServer(*options, "--sendq", "256K")
    tcp = server.connect()
    lazy = joinWeb(server, receiveBuffer=4096, context=context)
    pings = frame(PING, b"p" * 125, mask=b"ping") * 1000
    cut = re.compile(r"client 1 cut off: SendQ exceeded")
    for _ in range(200):  # 26 MB at most; the limit is 256 KiB
        try:
            lazy.sock.sendall(pings)
        except OSError:
            break  # cut off already
        if cut.search(server.logText()):
            break
    tcp.expect(b"server: client 1 just left\n")
    waitFor(lambda: cut.search(server.logText()), "the log to say why")
    lazy.close()


def test_serverFullTold(startServer: StartServer) -> None:
    """
    A connection to the web site of a full server is told so in an HTTP
    answer as it is accepted, before it sends anything, and closed.
    """
    server = startServer(*WEB, "--max-clients", "1")
    server.connect()
    web = Client(webPort(server))
    answer = web.readToEnd()
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert answer.endswith(b"\r\n\r\nserver: server full\n")


def test_idleTimeout(startServer: StartServer) -> None:
    """
    A browser idle for longer than C{--idle-timeout} is told so and its
    WebSocket is closed normally (1000).
    """
    server = startServer(*WEB, "--idle-timeout", "0.5")
    web = joinWeb(server)
    web.expect("server: idle for too long, disconnecting")
    assert web.closeCode() == 1000


def test_floodControlDelaysNotDrops(startServer: StartServer) -> None:
    """Over its allowance a browser is read later; every line arrives, in order."""
    server = startServer(*WEB, "--flood-rate", "20", "--flood-burst", "5")
    tcp = server.connect()
    web = joinWeb(server)
    started = time.monotonic()
    for index in range(30):
        web.send(f"line {index}")
    for index in range(30):
        tcp.expect(b"client 1: line %d\n" % index)
    # 25 lines past the burst, at 20 a second: not before 1.25 s.
    assert time.monotonic() - started >= 1.0


def test_shutdownTold(startServer: StartServer) -> None:
    """
    On SIGTERM a browser is told the server is shutting down and its
    WebSocket is closed normally (1000), its answer to the close read; the
    server exits with 0.
    """
    server = startServer(*WEB)
    web = joinWeb(server)
    server.process.send_signal(signal.SIGTERM)
    web.expect("server: shutting down")
    assert web.closeCode() == 1000
    assert server.process.wait(DEADLINE) == 0
    # The browser's answer to the close was read, though input was held.
    assert "client 0 disconnected (connection closed cleanly)" in server.logText()


def test_pageServed(startServer: StartServer) -> None:
    """The page, with its type and policy; nothing else is there."""
    server = startServer(*WEB)
    base = f"http://127.0.0.1:{webPort(server)}"
    with urllib.request.urlopen(base + "/") as page:
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "script-src 'sha256-" in page.headers["Content-Security-Policy"]
        assert b"new WebSocket(" in page.read()
    for path, code in (("/nothing", 404), ("//", 404), ("/ws", 426)):
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + path)
        assert missing.value.code == code
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            urllib.request.Request(base + "/", method="POST", data=b"")
        )
    assert refused.value.code == 405
    tcp = Client(server.port)
    tcp.send(b"the room still works\n")
    Client(server.port)
    tcp.expect(b"server: client 1 just arrived\n")  # no echo came before it


def test_overTls(startServer: StartServer, tmp_path: Path) -> None:
    """
    With an ssl: endpoint the page is https and the WebSocket wss: a page
    of the http origin of the same host is another origin.
    """
    options, context = tlsWeb(tmp_path)
    server = startServer(*options)
    tcp = server.connect()
    port = webPort(server)
    with pytest.raises(HandshakeRefusedError):
        WebClient(port, origin=f"http://127.0.0.1:{port}", context=context)
    web = WebClient(port, origin=f"https://127.0.0.1:{port}", context=context)
    web.expect("server: you are client 1", "server: 2 clients: client 0, client 1")
    tcp.expect(b"server: client 1 just arrived\n")
    web.send("over TLS")
    tcp.expect(b"client 1: over TLS\n")
    tcp.send(b"back\n")
    web.expect("client 0: back")
    web.close()
    tcp.expect(b"server: client 1 just left\n")


def test_closingHandshakeOverTls(startServer: StartServer, tmp_path: Path) -> None:
    """
    Over TLS too, a browser's close is answered and the server closes the
    connection as soon as it has: well before the grace (5 s) it gives a
    browser that does not answer; the log says it closed cleanly.
    """
    options, context = tlsWeb(tmp_path)
    server = startServer(*options)
    web = joinWeb(server, context=context)
    started = time.monotonic()
    web.send(b"\x03\xe8", CLOSE)
    assert web.closeCode() == 1000
    with contextlib.suppress(OSError):  # closed with or without TLS's goodbye
        assert web.sock.recv(1) == b""
    assert time.monotonic() - started < 4
    waitFor(
        lambda: "client 0 disconnected (connection closed cleanly)" in server.logText(),
        "the log to say the close was clean",
    )


@pytest.mark.parametrize("size", ["64", "200"])
def test_benchOverWebSockets(
    startServer: StartServer, tmp_path: Path, size: str
) -> None:
    """
    chat-bench --ws loads the room through the web site: short lines and
    lines whose frames have a longer header, nothing lost.
    """
    server = startServer(*WEB)
    target = f"127.0.0.1:{webPort(server)}"
    load = f"--clients 20 --senders 4 --size {size} --duration 1 --warmup 0.3"
    done = runTool(
        "chat-bench", "--ws", "--json", "--target", target, *load.split(), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert (figures["ok"], figures["lost"], figures["order_violations"]) == (True, 0, 0)
    assert figures["lines_sent"] > 0
    waitFor(
        lambda: re.search(r"client 19 connected from .* \(web\)", server.logText()),
        "the bench's clients to be browsers in the log",
    )


def test_slowBrowserGetsEverythingAtShutdown(startServer: StartServer) -> None:
    """
    A browser that reads slowly gets everything before the shutdown notice
    and the close, within the room's grace (5 s), not a shorter close
    timeout of the WebSocket's own (a second, as autobahn's was).
    """
    server = startServer(*WEB)
    tcp = server.connect()
    slow = joinWeb(server, receiveBuffer=1 << 16)
    reader = server.connect()
    batch = b"".join(b"%08d " % index + b"z" * 990 + b"\n" for index in range(2000))
    tcp.send(batch)
    reader.expect(b"".join(b"client 0: " + line + b"\n" for line in batch.splitlines()))
    server.process.send_signal(signal.SIGTERM)
    reader.expect(b"server: shutting down\n")
    time.sleep(1.5)  # the slow reader, past a one-second close timeout
    for line in batch.splitlines():
        slow.expect("client 0: " + line.decode())
    slow.expect("server: shutting down")
    assert slow.closeCode() == 1000
    assert server.process.wait(DEADLINE) == 0


def answer(port: int, *lines: str) -> bytes:
    """
    The whole answer to a request of C{lines} (its head), which asks the
    server to close the connection after it.
    """
    client = Client(port)
    client.send(("\r\n".join([*lines, "Connection: close", "", ""])).encode())
    return client.readToEnd()


def status(data: bytes) -> bytes:
    """The status code of the answer C{data}."""
    return data.split(b" ", 2)[1]


def test_spoofedHostForbidden(startServer: StartServer) -> None:
    """
    A request for a host the server does not know as its own (a rebound
    name) is forbidden, the page and the WebSocket alike, and nobody hears
    of it; loopback names and --web-host names are served.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    port = webPort(server)
    for host in [f"evil.example:{port}", "evil.example", "127.0.0.1.evil.example"]:
        assert status(answer(port, "GET / HTTP/1.1", f"Host: {host}")) == b"403"
    evil = upgradeRequest(f"http://evil.example:{port}", host=f"evil.example:{port}")
    refused = Client(port)
    refused.send(evil)
    refused.expect(b"HTTP/1.1 403 ")
    for host in [f"localhost:{port}", f"127.0.0.1:{port}", "[::1]"]:
        assert status(answer(port, "GET / HTTP/1.1", f"Host: {host}")) == b"200"
    joinWeb(server, origin=f"http://127.0.0.1:{port}")  # client 1: none before
    tcp.send(b"sentinel\n")
    server.clients[1].expect("client 0: sentinel")  # type: ignore[arg-type]


def test_webHostServed(startServer: StartServer) -> None:
    """
    A name given with --web-host is served, the page and the WebSocket of
    a page from there; other names are not.
    """
    server = startServer(*WEB, "--web-host", "Chat.Example")
    port = webPort(server)
    assert status(answer(port, "GET / HTTP/1.1", "Host: chat.example")) == b"200"
    assert status(answer(port, "GET / HTTP/1.1", "Host: other.example")) == b"403"
    web = Client(port)
    web.send(upgradeRequest(f"http://chat.example:{port}", f"chat.example:{port}"))
    web.expect(b"HTTP/1.1 101 ")


def test_webAndMetricsBindLoopback(startServer: StartServer) -> None:
    """--web tcp:0 and --metrics tcp:0 bind 127.0.0.1, as --port does."""
    server = startServer("--web", "tcp:0", "--metrics", "tcp:0")
    for kind in ("web", "metrics"):
        pattern = re.compile(rf"listening on tcp 127\.0\.0\.1:\d+ \({kind}\)")
        waitFor(
            lambda: pattern.search(server.logText()),  # noqa: B023 (called here)
            f"the {kind} site to listen on loopback",
        )
    assert not re.search(r"listening on tcp 0\.0\.0\.0", server.logText())


def test_halfOpenHandshakesHoldPlaces(startServer: StartServer) -> None:
    """
    Connections to the web site count against --max-per-ip from their
    accept, before they send anything, and with the TCP clients from the
    same address: with 5 open, the others are closed at once, told why,
    and so is a TCP client; once they close, TCP clients get in.
    """
    server = startServer(*WEB, "--max-per-ip", "5")
    port = webPort(server)
    silent = [Client(port) for _ in range(5)]
    for _ in range(15):
        refused = Client(port).readToEnd()
        assert refused.startswith(b"HTTP/1.1 503 "), refused
        assert refused.endswith(b"server: too many connections from your address\n")
    assert Client(server.port).readToEnd() == (
        b"server: too many connections from your address\n"
    )
    for each in silent:  # still open: each is answered
        each.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert each.readToEnd().startswith(b"HTTP/1.1 200 ")
    first = server.connect()
    server.connect()
    first.send(b"both in\n")
    server.clients[1].expect(b"client 0: both in\n")


def test_slowRequestCutFromAccept(startServer: StartServer) -> None:
    """
    A request dripped a header line every half second is cut ten seconds
    after its connection was accepted, unanswered: a timeout that starts
    again with every line would never cut it.
    """
    server = startServer(*WEB)
    client = Client(webPort(server))
    accepted = time.monotonic()
    client.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    closed = False
    for line in range(int(DEADLINE / 0.5)):
        readable, _, _ = select.select([client.sock], [], [], 0.5)  # the drip
        if readable:
            closed = True
            break
        client.send(b"X-Drip-%d: 1\r\n" % line)
    assert closed, "the request was never cut"
    # Not before its ten seconds, give or take the server's clock, which is
    # the wall clock (the reactor's), against this test's monotonic one.
    assert time.monotonic() - accepted >= 9.5
    with contextlib.suppress(ConnectionResetError):  # aborted: no answer
        assert client.sock.recv(4096) == b""


def openFiles(server: Server) -> list[str]:
    """
    What the server's file descriptors are open on (those it closes while
    they are listed, as it closes the connection it refused, are left out).
    """
    names = []
    for fd in Path(f"/proc/{server.process.pid}/fd").iterdir():
        with contextlib.suppress(FileNotFoundError):
            names.append(os.readlink(fd))
    return names


def test_bodiesRefusedUnread(startServer: StartServer) -> None:
    """
    A request with a large body, to the page or the metrics, is answered
    413 as soon as its headers are in and closed: nothing of it goes to
    a (deleted) temporary file or into the server's memory.
    """
    server = startServer(*WEB, "--metrics", "tcp:0")
    metrics = int(
        waitFor(
            lambda: re.search(r":(\d+) \(metrics\)", server.logText()), "metrics"
        ).group(1)
    )
    before = server.peakMemory()
    for port, path, size in [(webPort(server), "/", 200), (metrics, "/metrics", 50)]:
        client = Client(port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {size << 20}\r\n\r\n"
        )
        client.send(head.encode() + b"x" * (1 << 16))
        while b"\r\n\r\n" not in client.buffer:
            chunk = client.sock.recv(4096)
            assert chunk, "closed without an answer"
            client.buffer += chunk
        assert client.buffer.startswith(b"HTTP/1.1 413 ")
        assert not [name for name in openFiles(server) if "(deleted)" in name]
        with contextlib.suppress(OSError):  # the server has closed it
            for _ in range(256):
                client.send(b"x" * (1 << 16))
            client.readToEnd()
    assert server.peakMemory() - before < 8 << 20


def test_answersNameNoSoftware(startServer: StartServer) -> None:
    """
    The web and metrics sites answer as C{Server: chat}, and name neither
    their software nor its version: pages, errors, refusals; only the
    metrics' C{python_info} family names the runtime, as documented.
    """
    server = startServer(*WEB, "--metrics", "tcp:0")
    web = webPort(server)
    metrics = int(
        waitFor(
            lambda: re.search(r":(\d+) \(metrics\)", server.logText()), "metrics"
        ).group(1)
    )
    host = "Host: 127.0.0.1"
    answers = [
        (b"200", answer(web, "GET / HTTP/1.1", host)),
        (b"404", answer(web, "GET /nothing HTTP/1.1", host)),
        (b"405", answer(web, "POST / HTTP/1.1", host, "Content-Length: 0")),
        (b"413", answer(web, "POST / HTTP/1.1", host, "Content-Length: 5")),
        (b"403", answer(web, "GET / HTTP/1.1", "Host: evil.example")),
        (b"200", answer(metrics, "GET /metrics HTTP/1.1", host)),
        (b"404", answer(metrics, "GET /other HTTP/1.1", host)),
    ]
    for code, data in answers:
        head = data.partition(b"\r\n\r\n")[0]
        assert status(data) == code, data[:200]
        assert re.findall(rb"\r\nserver:([^\r]*)", head, re.IGNORECASE) == [b" chat"]
        # The one family that names the runtime on purpose, for operators.
        told = re.sub(rb"(?m)^(# (HELP|TYPE) )?python_info\b.*\n", b"", data)
        assert not re.search(
            rb"twisted|autobahn|wsproto|h11|python", told, re.IGNORECASE
        )
