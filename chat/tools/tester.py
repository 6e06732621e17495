"""
C{chat-tester}: opens N connections to a chat server, sends one line from
each, closes all of them but the first, and checks that the first received
exactly what the protocol says: arrival notices, relayed lines, leave
notices, in order.

The first connection is the one that stays: it is the only one that sees
every other client arrive, talk and leave.  Each step waits until it has
received what that step makes the server send, so the whole transcript has
one right order.  Client ids are learned, not assumed: the server may have
served other clients before, so the id of the first arrival notice is taken
as the base and the others must follow it one by one, as ids are given in
accept order.
"""

from __future__ import annotations

import difflib
import sys
from typing import Any, NoReturn

from twisted.internet import error
from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.task import deferLater, react
from twisted.logger import Logger
from twisted.python import usage
from twisted.python.failure import Failure

from chat.app import parsing
from chat.app.log import LogFileObserver, openLog
from chat.core import wire
from chat.core.text import printable
from chat.tools.cli import ToolOptions, parseCommandLine
from chat.tools.notices import ARRIVAL, HistorySkipper

PROGRAM = "chat-tester"


class Options(ToolOptions):
    program = PROGRAM
    longdesc = (
        "Open N connections, send a line from each, close all but the first, "
        "and check that the first received exactly what the protocol says; "
        "exit 0 if so, 1 with a diff if not."
    )
    optParameters = [
        ["host", None, "127.0.0.1", "Server address."],
        ["port", "p", "8080", "Server port."],
        ["clients", "n", "10", "Connections to open (at least 2)."],
        ["timeout", None, "5", "Seconds to wait for each step's messages."],
        ["settle", None, "0.2", "Seconds to wait at the end for anything unexpected."],
        ["log", None, "tester.log", "Log file, in the server log's format."],
        [
            "login",
            None,
            None,
            "NAME:PASSWORD, for a server with --auth: every connection logs in"
            " with it (the others are sessions of the first one's account: their"
            " lines come as NAME: and nobody is told they come or go).",
        ],
    ]

    def postOptions(self) -> None:
        self["port"] = parsing.port("--port", self["port"], least=1)
        self["clients"] = parsing.wholeNumber("--clients", self["clients"], 2, 100000)
        self["timeout"] = parsing.decimal("--timeout", self["timeout"], 0.001, 3600)
        self["settle"] = parsing.decimal("--settle", self["settle"], 0, 3600)
        if self["login"] is not None:
            name, colon, password = self["login"].partition(":")
            if not (name and colon and password):
                raise usage.UsageError("--login: expected NAME:PASSWORD")
            self["login"] = b"/login %s %s" % (name.encode(), password.encode())
            self["account"] = name.encode()


def lineOf(index: int) -> bytes:
    """The line the tester's connection number C{index} sends."""
    return b"hello from tester connection %d" % (index,)


def expectedTranscript(
    firstId: int, clients: int, account: bytes | None = None
) -> list[bytes]:
    """
    What the first of C{clients} connections must receive when the others,
    given ids C{firstId}, C{firstId + 1}, ... in turn, arrive one by one,
    each send their line one by one, and leave one by one.  Its own line
    must not come back to it.  When all are logged in as C{account}, they
    are sessions of one person: only their lines come, as C{account}'s.
    """
    if account is not None:
        return [account + b": " + lineOf(index) + b"\n" for index in range(1, clients)]
    others = [(index, firstId + index - 1) for index in range(1, clients)]
    return (
        [wire.arrived(clientId) for _, clientId in others]
        + [wire.linePrefix(clientId) + lineOf(i) + b"\n" for i, clientId in others]
        + [wire.left(clientId) for _, clientId in others]
    )


def firstArrivalId(received: bytes) -> int | None:
    """The client id in the first arrival notice of C{received}, if any."""
    found = ARRIVAL.search(received)
    return int(found.group(1)) if found else None


def transcriptDiff(expected: list[bytes], received: bytes) -> list[str]:
    """A unified diff of the lines expected and received; empty if equal."""
    got = received.splitlines(keepends=True)
    return list(
        difflib.unified_diff(
            [_showable(line) for line in expected],
            [_showable(line) for line in got],
            "expected",
            "received",
            lineterm="",
        )
    )


def _showable(line: bytes) -> str:
    text = printable(line.removesuffix(b"\n"))
    return text if line.endswith(b"\n") else text + "  (no newline)"


class Recorder(Protocol):
    """
    One tester connection: keeps what it receives and can wait until a
    number of lines have arrived.
    """

    def __init__(self, index: int, log: Logger) -> None:
        self.index = index
        self.log = log
        self.received = b""
        self.lines = 0
        self._logged = 0
        self._waiting: list[tuple[int, Deferred[None]]] = []
        self.gone: Deferred[None] = Deferred()
        self._history = HistorySkipper()

    def dataReceived(self, data: bytes) -> None:
        data = self._history.feed(data)
        self.received += data
        self.lines += data.count(b"\n")
        self._logLines()
        stillWaiting = []
        for count, waiter in self._waiting:
            if self.lines >= count:
                waiter.callback(None)
            else:
                stillWaiting.append((count, waiter))
        self._waiting = stillWaiting

    def _logLines(self) -> None:
        """Log the lines that have been completed since last time."""
        end = self.received.rfind(b"\n") + 1
        for line in self.received[self._logged : end].splitlines():
            self.log.info(
                "[connection {index}] {line}",
                category="RX",
                index=self.index,
                line=printable(line),
            )
        self._logged = max(end, self._logged)

    def forget(self) -> None:
        """Start the transcript anew: what came so far is not part of it."""
        self.received = b""
        self.lines = 0
        self._logged = 0

    def linesReceived(self, count: int) -> Deferred[None]:
        """Fires once C{count} lines in all have been received."""
        waiter: Deferred[None] = Deferred()
        if self.lines >= count:
            waiter.callback(None)
        else:
            self._waiting.append((count, waiter))
        return waiter

    def send(self, line: bytes, shown: bytes | None = None) -> None:
        """Send C{line}; the log shows it, or C{shown} (for a password)."""
        self.log.info(
            "[connection {index}] {line}",
            category="TX",
            index=self.index,
            line=printable(line if shown is None else shown),
        )
        self.transport.write(line + b"\n")  # type: ignore[union-attr]

    def close(self) -> None:
        self.log.info("connection {index} closes", category="STATE", index=self.index)
        self.transport.loseConnection()  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.gone.callback(None)


class Session:
    """
    One run of the test: the connections and the steps, with a deadline for
    each.  After a step times out the remaining ones do not wait any more:
    the run has failed, and the diff will show how.
    """

    def __init__(self, reactor: Any, options: Options, log: Logger) -> None:
        self.reactor = reactor
        self.options = options
        self.log = log
        self.connections: list[Recorder] = []
        self.timedOut: str | None = None

    async def run(self) -> bytes:
        """Play the steps; return what the first connection received."""
        clients = self.options["clients"]
        observer = await self.connect(0)
        # Logged in, all sessions of one account, nobody is told of arrivals
        # and departures: only the lines come.
        notices = 1
        if self.options["login"] is not None:
            # Logged in once the answer to /who comes, which is not part of
            # the transcript (nor is the login prompt, skipped as history).
            observer.send(b"/who")
            await self.until(1, "the login")
            observer.forget()
            notices = 0
        for index in range(1, clients):
            await self.connect(index)
            await self.until(index * notices, f"arrival notice {index}")
        for recorder in self.connections:
            recorder.send(lineOf(recorder.index))
            if recorder is not observer:
                await self.until(
                    (clients - 1) * notices + recorder.index, f"line {recorder.index}"
                )
        for recorder in self.connections[1:]:
            recorder.close()
            await self.until(
                (clients - 1) * (1 + notices) + recorder.index * notices,
                f"leave notice {recorder.index}",
            )
        await deferLater(self.reactor, self.options["settle"])
        observer.close()
        await observer.gone
        return observer.received

    async def connect(self, index: int) -> Recorder:
        host, port = self.options["host"], self.options["port"]
        endpoint = HostnameEndpoint(self.reactor, host, port, self.options["timeout"])
        recorder = await connectProtocol(endpoint, Recorder(index, self.log))
        self.log.info("connection {index} open", category="STATE", index=index)
        if self.options["login"] is not None:
            recorder.send(self.options["login"], shown=b"/login")
        self.connections.append(recorder)
        return recorder

    async def until(self, lines: int, what: str) -> None:
        """Wait until the first connection has received C{lines} lines."""
        if self.timedOut is not None:
            return
        waiter = self.connections[0].linesReceived(lines)
        try:
            await waiter.addTimeout(self.options["timeout"], self.reactor)
        except TimeoutError:
            self.timedOut = what
            self.log.warn("timed out waiting for {what}", category="STATE", what=what)


async def testServer(reactor: Any, options: Options, log: Logger) -> None:
    """Run the test; exit 0 if it passed, 1 if not."""
    session = Session(reactor, options, log)
    try:
        received = await session.run()
    except (error.ConnectError, error.DNSLookupError, TimeoutError) as failed:
        where = f"{options['host']}:{options['port']}"
        log.error(
            "cannot connect to {where}: {failed}",
            category="STATE",
            where=where,
            failed=failed,
        )
        print(f"{PROGRAM}: cannot connect to {where}: {failed}", file=sys.stderr)
        raise SystemExit(1) from None
    firstId = firstArrivalId(received)
    expected = expectedTranscript(
        0 if firstId is None else firstId, options["clients"], options.get("account")
    )
    diff = transcriptDiff(expected, received)
    if not diff:
        _finish(
            log,
            0,
            f"PASS: {options['clients']} connections; the one that stayed received "
            f"{len(expected)} lines, exactly as expected",
        )
    reasons = ["FAIL: the connection that stayed did not receive what it should"]
    if session.timedOut:
        reasons.append(f"(timed out waiting for {session.timedOut})")
    if firstId is None and options["login"] is None:
        reasons.append("(no arrival notice: ids assumed to start at 0)")
    _finish(log, 1, " ".join(reasons) + "\n" + "\n".join(diff))


def _finish(log: Logger, status: int, report: str) -> NoReturn:
    log.info("{report}", category="result", report=report)
    print(f"{PROGRAM}: {report}")
    raise SystemExit(status)


def main() -> None:
    options = parseCommandLine(Options())
    try:
        observer = LogFileObserver(openLog(options["log"]), component="tester")
    except OSError as failed:
        raise SystemExit(f"{PROGRAM}: --log: {failed}") from None
    from twisted.internet import reactor

    reactor.addSystemEventTrigger("after", "shutdown", observer.close)
    log = Logger(observer=observer)
    react(lambda reactor: Deferred.fromCoroutine(testServer(reactor, options, log)))
