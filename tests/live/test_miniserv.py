"""
C{mini_serv PORT}, run as a grader runs it.
"""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.floods import flood, relayedFrom
from tests.support.live import Client, ServerProcess, freePort, waitFor
from tests.support.paths import ROOT
from tests.support.tools import runTool

GATED = str(ROOT / "tests" / "support" / "miniserv_gated.py")


HANDOVER = "[start] handover: "


class MiniServ(ServerProcess):
    """
    C{mini_serv PORT} started in a directory; with C{gated}, its server is
    held back (only the start-up relay serves) until L{openGate}.
    """

    def __init__(
        self,
        directory: Path,
        port: int,
        gated: bool = False,
        held: bool = False,
        gatedModule: str | None = None,
    ) -> None:
        self.port = port
        self.log = directory / "mini_serv.log"
        self.gate = directory / "gate"
        self.hold = directory / "hold"
        if not gated:
            self.openGate()
        environment = dict(os.environ)
        if held:
            environment["HOLD"] = str(self.hold)
        if gatedModule is not None:
            environment["GATED"] = gatedModule
        self.process = subprocess.Popen(
            [sys.executable, GATED, str(self.gate), str(port)],
            cwd=directory,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def connect(self) -> Client:
        """Connect as soon as it listens, polling."""
        return waitFor(self._tryConnect, "mini_serv to listen")

    def openGate(self) -> None:
        self.gate.touch()

    def handedOver(self) -> str:
        """Wait until the log records the handover; return the log."""
        return waitFor(self._handedOver, "the handover")

    def _handedOver(self) -> str | None:
        text = self.log.read_text() if self.log.exists() else ""
        return text if HANDOVER in text else None

    def _tryConnect(self) -> Client | None:
        assert self.process.poll() is None, self.process.stderr.read()  # type: ignore[union-attr]
        try:
            return Client(self.port)
        except ConnectionRefusedError:
            return None


@pytest.fixture
def miniServ(tmp_path: Path) -> Iterator[MiniServ]:
    server = MiniServ(tmp_path, freePort())
    yield server
    server.kill()


@pytest.fixture
def gatedMiniServ(tmp_path: Path) -> Iterator[MiniServ]:
    server = MiniServ(tmp_path, freePort(), gated=True)
    yield server
    server.kill()


@pytest.mark.live
@pytest.mark.parametrize("arguments", [[], ["8080", "8081"], ["1", "2", "3"]])
def test_wrongNumberOfArguments(tmp_path: Path, arguments: list[str]) -> None:
    """
    Anything but one argument exits with 1 and C{Wrong number of arguments}
    on standard error, and nothing on standard output.
    """
    done = runTool("mini_serv", *arguments, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "Wrong number of arguments\n",
    )


@pytest.mark.live
@pytest.mark.parametrize("port", ["abc", "70000", "-1", "80a", ""])
def test_badPortIsFatal(tmp_path: Path, port: str) -> None:
    """
    A port that is not a port number exits with 1 and C{Fatal error} on
    standard error.
    """
    done = runTool("mini_serv", port, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "Fatal error\n")


@pytest.mark.live
@pytest.mark.parametrize("spelling", ["+{}", " {}", "{}_", "arabic"])
def test_portThatIntTakesButIsNotAPortNumberIsFatal(
    tmp_path: Path, spelling: str
) -> None:
    """
    What Python's C{int()} reads as a number (a sign, spaces, an underscore
    between digits, other scripts' digits) is no port number: the script
    may listen on it before the package is loaded, which then refuses it.
    """
    port = str(freePort())
    if spelling == "arabic":
        text = port.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    elif spelling == "{}_":
        text = port[:-1] + "_" + port[-1]
    else:
        text = spelling.format(port)
    done = runTool("mini_serv", text, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "Fatal error\n")


@pytest.mark.live
def test_listensBeforeThePackageIsLoaded(tmp_path: Path) -> None:
    """
    The installed C{mini_serv} accepts connections while importing the
    package (any of its modules) is held back; once it is let go, the
    connection that was waiting is served.
    """
    server = MiniServ(tmp_path, freePort(), gated=True, gatedModule="chat")
    try:
        first = server.connect()
        assert not server.log.exists()  # nothing of the package has run
        server.openGate()
        second = Client(server.port)
        first.expect(b"server: client 1 just arrived\n")
        second.send(b"after the gate\n")
        first.expect(b"client 1: after the gate\n")
    finally:
        server.kill()


@pytest.mark.live
def test_startupRelayImportsNeitherReNorTyping() -> None:
    """
    What the start-up relay needs loads neither C{re} nor C{typing}, each
    several milliseconds of start-up before the first line is relayed.
    """
    code = (
        "import sys, chat.tools.miniserv.start, chat.tools.miniserv.relay;"
        " print(sorted({'re', 'typing'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout == "[]\n"


@pytest.mark.live
def test_busyPortIsFatal(tmp_path: Path) -> None:
    """A port already in use exits with 1 and C{Fatal error} on standard error."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = runTool("mini_serv", str(taken.getsockname()[1]), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "Fatal error\n")


@pytest.mark.live
def test_unwritableLogIsFatal(tmp_path: Path) -> None:
    """
    A log that cannot be written exits with 1 and C{Fatal error} on standard
    error.
    """
    (tmp_path / "mini_serv.log").mkdir()
    done = runTool("mini_serv", str(freePort()), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "Fatal error\n")


@pytest.mark.live
def test_servesAfterTheHandover(miniServ: MiniServ) -> None:
    """
    Once the start-up relay has handed over, the server serves a newcomer
    with the clients connected before.
    """
    first = miniServ.connect()
    miniServ.handedOver()
    second = Client(miniServ.port)
    first.expect(b"server: client 1 just arrived\n")
    second.send(b"served\n")
    first.expect(b"client 1: served\n")


@pytest.mark.live
def test_twoClientsChatAndTheLogSaysSo(miniServ: MiniServ) -> None:
    """
    Two clients chat, one leaves, and SIGTERM shuts the server down cleanly;
    the log records the listener, each connection, line, broadcast and
    departure, and the shutdown.
    """
    a = miniServ.connect()
    b = Client(miniServ.port)
    a.expect(b"server: client 1 just arrived\n")
    a.send(b"hello b\r\n")
    b.expect(b"client 0: hello b\n")
    b.send(b"hello a\n")
    a.expect(b"client 1: hello a\n")
    b.close()
    a.expect(b"server: client 1 just left\n")
    miniServ.handedOver()
    assert miniServ.stop() == 0
    assert a.readToEnd() == b"server: shutting down\n"
    log = miniServ.log.read_text()
    for event in [
        f"[INFO] [server] [start] listening on tcp 127.0.0.1:{miniServ.port}\n",
        "[INFO] [server] [STATE] client 0 connected from 127.0.0.1:",
        "[INFO] [server] [RX] [client 0] hello b\n",
        "[INFO] [server] [BROADCAST] to 1 client\n",
        "[INFO] [server] [RX] [client 1] hello a\n",
        "[INFO] [server] [STATE] client 1 disconnected (connection closed cleanly)\n",
        "[INFO] [server] [stop] received SIGTERM\n",
        "[INFO] [server] [stop] shutting down, 1 client connected\n",
    ]:
        assert event in log


@pytest.mark.live
def test_sigintShutsDownCleanly(miniServ: MiniServ) -> None:
    """
    SIGINT shuts the server down cleanly: a client is told of a departure
    from before the handover, then that the server is shutting down.
    """
    client = miniServ.connect()
    Client(miniServ.port).close()
    client.expect(b"server: client 1 just arrived\n")
    miniServ.handedOver()
    assert miniServ.stop(signal.SIGINT) == 0
    assert client.readToEnd() == b"server: client 1 just left\nserver: shutting down\n"


@pytest.mark.live
def test_startupRelayServesBeforeTheHandover(gatedMiniServ: MiniServ) -> None:
    """
    Two clients chat (CRLF, a partial line, an empty line) while only the
    start-up relay serves; the handover keeps their ids, the partial line
    and the order; ids go on from there; the log has the relay's lines
    before its handover line.
    """
    server = gatedMiniServ
    a = server.connect()
    b = Client(server.port)
    a.expect(b"server: client 1 just arrived\n")
    a.send(b"hello b\r\n\nhalf a li")
    b.expect(b"client 0: hello b\nclient 0: \n")
    b.send(b"hello a\n")
    a.expect(b"client 1: hello a\n")
    assert not server.log.exists() or HANDOVER not in server.logText()
    server.openGate()
    log = server.handedOver()
    a.send(b"ne\n")
    b.expect(b"client 0: half a line\n")
    c = Client(server.port)
    a.expect(b"server: client 2 just arrived\n")
    b.expect(b"server: client 2 just arrived\n")
    c.send(b"after\n")
    a.expect(b"client 2: after\n")
    b.expect(b"client 2: after\n")
    b.close()
    a.expect(b"server: client 1 just left\n")
    c.expect(b"server: client 1 just left\n")
    handover = log.index(HANDOVER)
    for early in ["[RX] [client 0] hello b\n", "[RX] [client 1] hello a\n"]:
        assert -1 < log.find(early) < handover, early
    assert "clients from the start-up relay, next id 2" in log


@pytest.mark.live
def test_clientGoneDuringTheHandover(tmp_path: Path) -> None:
    """
    A client that resets its connection after the start-up relay has
    stopped and before the server takes it over is gone for the others as
    if the relay had seen it go: its partial line, then its departure;
    the server takes over the others and serves them.
    """
    server = MiniServ(tmp_path, freePort(), gated=True, held=True)
    try:
        a = server.connect()
        b = Client(server.port)
        a.expect(b"server: client 1 just arrived\n")
        a.send(b"hello\nhalf a line")
        b.expect(b"client 0: hello\n")
        server.openGate()
        waitFor(lambda: Path(f"{server.hold}.stopped").exists(), "the relay to stop")
        a.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        a.close()
        server.hold.touch()
        b.expect(b"client 0: half a line\nserver: client 0 just left\n")
        log = server.handedOver()
        assert "[STATE] client 0 disconnected (" in log
        c = Client(server.port)
        b.expect(b"server: client 2 just arrived\n")
        c.send(b"sentinel\n")
        b.expect(b"client 2: sentinel\n")
    finally:
        server.kill()


@pytest.mark.live
def test_startupRelayCutsLongLinesAndRelaysPartialOnLeave(
    gatedMiniServ: MiniServ,
) -> None:
    """
    The start-up relay cuts long lines at 64 KiB, ends a line at CRLF, and
    relays a partial line when its sender leaves, as the server does; the
    server goes on after it.
    """
    server = gatedMiniServ
    a = server.connect()
    b = Client(server.port)
    a.expect(b"server: client 1 just arrived\n")
    b.send(b"y" * 65536 + b"z" * 10 + b"\r\n" + b"x" * 70000)
    a.expect(b"client 1: " + b"y" * 65536 + b"\nclient 1: " + b"z" * 10 + b"\n")
    a.expect(b"client 1: " + b"x" * 65536 + b"\n")
    b.close()
    a.expect(b"client 1: " + b"x" * (70000 - 65536) + b"\n")
    a.expect(b"server: client 1 just left\n")
    c = Client(server.port)
    a.expect(b"server: client 2 just arrived\n")
    server.openGate()
    server.handedOver()
    c.send(b"sentinel\n")
    a.expect(b"client 2: sentinel\n")


@pytest.mark.live
def test_floodSpansTheHandover(gatedMiniServ: MiniServ) -> None:
    """
    Three clients each send 3000 lines, the first half before the server
    is let in, the rest at once after, with a line cut across the two: every
    client receives every other's lines, whole and in order.
    """
    server = gatedMiniServ
    clients = [server.connect()] + [Client(server.port) for _ in range(2)]
    clients[0].expect(b"server: client 1 just arrived\nserver: client 2 just arrived\n")
    clients[1].expect(b"server: client 2 just arrived\n")
    count = 3000
    sent = [
        b"".join(
            b"line %d from %d %s\n" % (n, i, b"p" * (n % 50)) for n in range(count)
        )
        for i in range(3)
    ]
    for i, client in enumerate(clients):
        client.send(sent[i][: len(sent[i]) // 2])
    server.openGate()
    for i, client in enumerate(clients):
        client.send(sent[i][len(sent[i]) // 2 :])
    for i, client in enumerate(clients):
        received = receiveLines(client, 2 * count)
        for j in range(3):
            if j != i:
                prefix = b"client %d: " % j
                mine = [
                    line[len(prefix) :] for line in received if line.startswith(prefix)
                ]
                assert b"".join(mine) == sent[j]
    assert "clients from the start-up relay, next id 3" in server.handedOver()


@pytest.mark.live
def test_clientsConnectedBeforeALineWasSentReceiveIt(miniServ: MiniServ) -> None:
    """
    As graders do: as soon as the port accepts, two more clients connect,
    then the first sends 2000 lines at once.  Both others were connected
    before a line was sent, so both are announced before the first line
    and receive every line, in order, as with the C binary.
    """
    first = miniServ.connect()
    others = [Client(miniServ.port), Client(miniServ.port)]
    lines = flood(2000)
    first.send(lines)
    relayed = relayedFrom(0, lines)
    others[0].expect(b"server: client 2 just arrived\n" + relayed)
    others[1].expect(relayed)
    first.expect(b"server: client 1 just arrived\nserver: client 2 just arrived\n")


@pytest.mark.live
def test_startupRelayLogsEachEventWhenItHappened(gatedMiniServ: MiniServ) -> None:
    """
    The log has the start-up relay's events with the times they happened,
    before the server was let in, not the time of the handover; each
    client's connection is logged once, those taken over by the server
    too; the log reads in time order.
    """
    server = gatedMiniServ
    a = server.connect()
    b = Client(server.port)
    a.expect(b"server: client 1 just arrived\n")
    c = Client(server.port)
    a.expect(b"server: client 2 just arrived\n")
    c.close()
    a.expect(b"server: client 2 just left\n")
    a.send(b"hello b\n")
    b.expect(b"server: client 2 just arrived\nserver: client 2 just left\n")
    b.expect(b"client 0: hello b\n")
    relayedBy = time.time()
    server.openGate()
    log = server.handedOver()
    stamps = [logMillis(line) for line in log.splitlines()]
    assert stamps == sorted(stamps)
    for clientId in range(3):
        assert log.count(f"[STATE] client {clientId} connected from ") == 1
    for early in [
        "[start] listening on ",
        "[STATE] client 0 connected from ",
        "[STATE] client 1 connected from ",
        "[STATE] client 2 disconnected ",
        "[RX] [client 0] hello b",
    ]:
        [line] = [line for line in log.splitlines() if early in line]
        assert logMillis(line) <= math.ceil(relayedBy * 1000), line


def receiveLines(client: Client, count: int) -> list[bytes]:
    """The next C{count} lines C{client} receives, each with its newline."""
    while client.buffer.count(b"\n") < count:
        chunk = client.sock.recv(1 << 20)
        assert chunk, "closed early"
        client.buffer += chunk
    lines = client.buffer.splitlines(keepends=True)
    client.buffer = b"".join(lines[count:])
    return lines[:count]


def logMillis(line: str) -> int:
    """The time a line of the log says its event happened, in milliseconds."""
    match = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) ", line)
    assert match, line
    second = time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S"))
    return int(second) * 1000 + int(match.group(2))
