"""
C{chat-client HOST PORT}: an interactive client for the chat server.

Every line typed on standard input is sent; every line received is written
to standard output as it arrives, bytes unchanged.  Only complete lines are
printed: a partial line is held until its newline (or the end of the
connection), so that half a message never lands in the middle of what the
user is typing.
"""

from __future__ import annotations

import sys
import time
from typing import Any, NoReturn

from twisted.internet import error
from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol, wrapClientTLS
from twisted.internet.interfaces import (
    IDelayedCall,
    IHalfCloseableProtocol,
    IHandshakeListener,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.stdio import StandardIO
from twisted.internet.task import LoopingCall, react
from twisted.logger import Logger, LogPublisher
from twisted.python import usage
from twisted.python.failure import Failure
from zope.interface import implementer

from chat import VersionOption, wire
from chat.log import LogFileObserver, openLog, printable
from chat.tools.cli import parseCommandLine

PROGRAM = "chat-client"
CONNECT_TIMEOUT = 10.0
LOG_FLUSH_INTERVAL = 1.0
HALF_CLOSE_GRACE = 5.0


class Options(VersionOption, usage.Options):
    synopsis = "Usage: chat-client [options] HOST PORT"
    longdesc = (
        "Connect to a chat server: every line typed is sent, every line "
        "received is printed. Ends at end of input (Ctrl+D) once everything "
        "typed has been sent, or on Ctrl+C."
    )
    optFlags = [
        ["timestamps", "t", "Prefix each printed line with the time it arrived."],
        ["tls", None, "Connect with TLS (the server listens with --listen ssl:...)."],
    ]
    optParameters = [
        ["log", None, None, "Append [client] STATE, TX and RX lines to this file."],
        [
            "ca",
            None,
            None,
            "With --tls: PEM certificate to trust instead of the system's.",
        ],
    ]

    def parseArgs(self, *arguments: str) -> None:
        if len(arguments) != 2:
            raise usage.UsageError("expected two arguments, HOST and PORT")
        host, port = arguments
        if not (port.isascii() and port.isdigit()) or not 0 < int(port) <= 65535:
            raise usage.UsageError(f"{port!r} is not a port number (1-65535)")
        self["host"] = host
        self["port"] = int(port)

    def postOptions(self) -> None:
        if self["ca"] is not None and not self["tls"]:
            raise usage.UsageError("--ca needs --tls")


class PartialLines:
    """
    Holds the bytes after the last newline received, so that only complete
    lines are handed on.
    """

    def __init__(self) -> None:
        self._pending = b""

    def complete(self, data: bytes) -> bytes:
        """The complete lines that C{data} finishes, or C{b""}."""
        data = self._pending + data
        end = data.rfind(wire.DELIMITER) + 1
        self._pending = data[end:]
        return data[:end]

    def rest(self) -> bytes:
        """What is still held, and forget it."""
        rest, self._pending = self._pending, b""
        return rest


class Display:
    """
    Where received lines go: standard output, optionally time-stamped, and
    the log.
    """

    def __init__(self, log: Logger, timestamps: bool) -> None:
        self.log = log
        self.timestamps = timestamps
        self._output: Any = None
        self._held: list[bytes] = []

    def attach(self, output: Any) -> None:
        """
        Print to C{output} from now on, starting with what arrived before
        there was one (over TLS, lines can come with the handshake).
        """
        self._output = output
        output.writeSequence(self._held)
        self._held = []

    def show(self, lines: bytes) -> None:
        """Print C{lines}, complete lines unless the connection has ended."""
        for line in lines.splitlines(keepends=True):
            self.log.info("{line}", category="RX", line=printable(line.rstrip(b"\n")))
        if self.timestamps:
            stamp = time.strftime("%H:%M:%S ").encode("ascii")
            lines = b"".join(stamp + line for line in lines.splitlines(keepends=True))
        if self._output is None:
            self._held.append(lines)
        else:
            self._output.write(lines)


@implementer(IHandshakeListener)
class ServerConnection(Protocol):
    """
    The connection to the chat server.

    @ivar ready: fires once the connection can be used: at once over TCP,
        after the handshake over TLS (or fails with the reason it did not).
    @ivar ended: fires once the connection is gone, for L{reason}.
    """

    def __init__(
        self, display: Display, clock: IReactorTime, secure: bool = False
    ) -> None:
        self.display = display
        self.clock = clock
        self.ready: Deferred[None] = Deferred() if secure else succeed(None)
        self.ended: Deferred[None] = Deferred()
        self.reason: Failure | None = None
        self.closing = False
        self._lines = PartialLines()
        self._leaving: IDelayedCall | None = None

    def handshakeCompleted(self) -> None:
        self.ready.callback(None)

    def dataReceived(self, data: bytes) -> None:
        lines = self._lines.complete(data)
        if lines:
            self.display.show(lines)

    def send(self, data: bytes) -> None:
        for line in data.splitlines():
            self.display.log.info("{line}", category="TX", line=printable(line))
        self.transport.write(data)  # type: ignore[union-attr]

    def close(self) -> None:
        """
        Stop sending.  Once everything sent so far is written, the sending
        half is shut down: the server sees the end of input and closes (as
        mini_serv does), while what it still sends on the way arrives and is
        printed.  A server that has not closed after L{HALF_CLOSE_GRACE}
        seconds is left.  Without half-close (TLS), just close.
        """
        if self.ended.called:  # gone already (Ctrl+C closes everything)
            return
        self.closing = True
        transport: Any = self.transport
        transport.unregisterProducer()
        halfClose = getattr(transport, "loseWriteConnection", None)
        if halfClose is None:
            transport.loseConnection()
            return
        halfClose()
        self._leaving = self.clock.callLater(HALF_CLOSE_GRACE, transport.loseConnection)

    def interrupted(self) -> None:
        """
        The client is stopping (Ctrl+C): the reactor closes the connection,
        and that end is ours, not a drop.
        """
        self.closing = True

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._leaving is not None and self._leaving.active():
            self._leaving.cancel()
        rest = self._lines.rest()
        if rest:
            self.display.show(rest)
        self.reason = reason
        if not self.ready.called:
            self.ready.errback(reason)
        self.ended.callback(None)


@implementer(IHalfCloseableProtocol)
class Keyboard(Protocol):
    """
    Standard input and output: what is read goes to the server (reading
    pauses while the connection cannot take more), and at end of input the
    connection is closed once all of it has been written.

    @ivar ended: fires once standard output has been written and closed.
    """

    def __init__(self, server: ServerConnection) -> None:
        self.server = server
        self.ended: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        self.server.transport.registerProducer(self.transport, True)  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self.server.send(data)

    def readConnectionLost(self) -> None:
        self.server.close()

    def writeConnectionLost(self) -> None:
        """Standard output is gone; nothing more can be shown."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.ended.callback(None)


async def chat(reactor: Any, options: Options, log: Logger) -> None:
    """Connect, then relay between the terminal and the server until done."""
    where = f"{options['host']}:{options['port']}"
    display = Display(log, options["timestamps"])
    log.info("connecting to {where}", category="STATE", where=where)
    try:
        server = await connectProtocol(
            _endpoint(reactor, options),
            ServerConnection(display, reactor, secure=options["tls"]),
        )
        await server.ready
    except Exception as failed:  # refused, unknown host, timeout, TLS, --ca
        _fail(log, f"cannot connect to {where}: {_why(failed)}")
    log.info("connected to {where}", category="STATE", where=where)
    reactor.addSystemEventTrigger("before", "shutdown", server.interrupted)
    keyboard = Keyboard(server)
    stdio = StandardIO(keyboard, reactor=reactor)
    display.attach(stdio)
    await server.ended
    stdio.loseConnection()
    await keyboard.ended
    if not server.closing:
        _fail(log, f"connection to {where} {_dropped(server.reason)}")
    log.info("disconnected from {where}", category="STATE", where=where)


def _endpoint(reactor: Any, options: Options) -> IStreamClientEndpoint:
    endpoint = HostnameEndpoint(
        reactor, options["host"], options["port"], timeout=CONNECT_TIMEOUT
    )
    if not options["tls"]:
        return endpoint
    from twisted.internet import ssl

    trust: Any = None
    if options["ca"] is not None:
        with open(options["ca"], "rb") as pem:
            trust = ssl.Certificate.loadPEM(pem.read())
    return wrapClientTLS(
        ssl.optionsForClientTLS(options["host"], trustRoot=trust), endpoint
    )


def _clientLog(path: str | None, reactor: Any) -> Logger:
    """
    The client's logger: with a C{path}, it appends to that file in the
    server log's format, flushed every second and when the reactor stops.
    """
    if path is None:
        return Logger(observer=LogPublisher())  # no observers: nowhere
    observer = LogFileObserver(openLog(path), component="client")
    flusher = LoopingCall(observer.flush)
    flusher.clock = reactor
    flusher.start(LOG_FLUSH_INTERVAL, now=False)
    reactor.addSystemEventTrigger("before", "shutdown", flusher.stop)
    reactor.addSystemEventTrigger("before", "shutdown", observer.close)
    return Logger(observer=observer)


def _why(failed: BaseException) -> str:
    if isinstance(failed, error.DNSLookupError):
        return "unknown host"
    if isinstance(failed, error.ConnectionRefusedError):
        return "connection refused"
    if isinstance(failed, error.TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    return str(failed) or type(failed).__name__


def _dropped(reason: Failure | None) -> str:
    if reason is None or reason.check(error.ConnectionDone):
        return "closed by the server"
    return f"lost: {reason.getErrorMessage()}"


def _fail(log: Logger, message: str) -> NoReturn:
    log.error("{message}", category="STATE", message=message)
    print(f"{PROGRAM}: {message}", file=sys.stderr)
    raise SystemExit(1)


def main() -> None:
    options = parseCommandLine(Options(), PROGRAM)
    from twisted.internet import reactor

    try:
        log = _clientLog(options["log"], reactor)
    except OSError as failed:
        raise SystemExit(f"{PROGRAM}: --log: {failed}") from None
    react(lambda reactor: Deferred.fromCoroutine(chat(reactor, options, log)))
