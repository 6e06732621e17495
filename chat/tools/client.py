"""
C{chat-client HOST PORT}: an interactive client for the chat server.

Every line typed on standard input is sent; every line received is written
to standard output as it arrives.  Only complete lines are printed: a partial
line is held until its newline (or the end of the connection).

Through pipes, bytes are unchanged both ways.  On a terminal, control
characters received (other than tab) are shown escaped, so that a peer
cannot retitle the terminal or overwrite a line (C{--raw} prints them as
they are); and the client edits the line being typed itself, so that a line
arriving meanwhile is printed above it and the partial input is drawn again
below, as IRC clients do.
"""

from __future__ import annotations

import os
import sys
import termios
import time
from collections.abc import Callable
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

from chat.app.log import LogFileObserver, openLog, printable
from chat.core import wire
from chat.tools.cli import ToolOptions, parseCommandLine

PROGRAM = "chat-client"
CONNECT_TIMEOUT = 10.0
LOG_FLUSH_INTERVAL = 1.0
HALF_CLOSE_GRACE = 5.0


class Options(ToolOptions):
    program = PROGRAM
    arguments = "HOST PORT"
    longdesc = (
        "Connect to a chat server: every line typed is sent, every line "
        "received is printed. Ends at end of input (Ctrl+D) once everything "
        "typed has been sent, or on Ctrl+C."
    )
    optFlags = [
        ["timestamps", "t", "Prefix each printed line with the time it arrived."],
        [
            "raw",
            None,
            "On a terminal, print control characters received as they are.",
        ],
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


class LineEditor:
    """
    The line being typed on a terminal whose own echo and line editing are
    off: what is typed is echoed here, so that received lines can be printed
    above it and the input drawn again (L{above}).

    It understands Enter, Backspace, Ctrl+U (erase the line) and Ctrl+D on
    an empty line (end of input); escape sequences (arrow keys) and other
    control characters are ignored.
    """

    def __init__(self) -> None:
        self.typed = b""
        self._inEscape = False

    def feed(self, data: bytes) -> tuple[bytes, list[bytes], bool]:
        """
        Take the keys C{data}.

        @return: what to write to the terminal, the lines finished (with
            their newline), and whether input has ended.
        """
        echo, lines = b"", []
        for key in data:
            if self._inEscape:
                # CSI and SS3 sequences end with a byte in @ to ~.
                self._inEscape = key in b"[O" or not 0x40 <= key <= 0x7E
            elif key == 0x1B:
                self._inEscape = True
            elif key in b"\r\n":
                lines.append(self.typed + b"\n")
                self.typed = b""
                echo += b"\n"
            elif key == 0x04 and not self.typed:
                return echo, lines, True
            elif key in b"\x7f\x08":
                self.typed = _withoutLastCharacter(self.typed)
                echo += ERASE_LINE + self.typed
            elif key == 0x15:
                self.typed = b""
                echo += ERASE_LINE
            elif key >= 0x20 or key == 0x09:
                self.typed += bytes([key])
                echo += bytes([key])
        return echo, lines, False

    def above(self, text: bytes) -> bytes:
        """What prints C{text} above the line being typed, then redraws it."""
        if not self.typed:
            return text
        return ERASE_LINE + text + self.typed


ERASE_LINE = b"\r\x1b[K"
"""Back to the start of the line, and erase it."""


def _withoutLastCharacter(typed: bytes) -> bytes:
    end = len(typed) - 1
    while end > 0 and 0x80 <= typed[end] < 0xC0:  # a UTF-8 continuation byte
        end -= 1
    return typed[: max(end, 0)]


class Display:
    """
    Where received lines go: standard output, optionally time-stamped and
    escaped, above the line being typed on a terminal, and the log.
    """

    def __init__(self, log: Logger, timestamps: bool, escape: bool = False) -> None:
        self.log = log
        self.timestamps = timestamps
        self.escape = escape
        self._output: Any = None
        self._editor: LineEditor | None = None
        self._held: list[bytes] = []

    def attach(self, output: Any, editor: LineEditor | None = None) -> None:
        """
        Print to C{output} from now on, starting with what arrived before
        there was one (over TLS, lines can come with the handshake); above
        what C{editor} holds, if given.
        """
        self._output = output
        self._editor = editor
        output.writeSequence(self._held)
        self._held = []

    def show(self, lines: bytes) -> None:
        """Print C{lines}, complete lines unless the connection has ended."""
        split = _splitLines(lines)
        for line in split:
            self.log.info("{line}", category="RX", line=printable(line.rstrip(b"\n")))
        if self.escape:
            split = [_escaped(line) for line in split]
        if self.timestamps:
            stamp = time.strftime("%H:%M:%S ").encode("ascii")
            split = [stamp + line for line in split]
        lines = b"".join(split)
        if self._output is None:
            self._held.append(lines)
        elif self._editor is None:
            self._output.write(lines)
        else:
            self._output.write(self._editor.above(lines))


def _splitLines(data: bytes) -> list[bytes]:
    """C{data} cut after each newline (and only there: not at a C{\\r})."""
    *complete, rest = data.split(b"\n")
    return [line + b"\n" for line in complete] + ([rest] if rest else [])


def _escaped(line: bytes) -> bytes:
    """C{line} with every control character but tab (and its newline) escaped."""
    body = line[:-1] if line.endswith(b"\n") else line
    return printable(body, keep="\t").encode("utf-8") + line[len(body) :]


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
            if line.startswith(b"/login "):
                line = b"/login"  # its name and password stay out of the log
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

    def __init__(
        self, server: ServerConnection, editor: LineEditor | None = None
    ) -> None:
        self.server = server
        self.editor = editor
        self.ended: Deferred[None] = Deferred()
        self._typedToTheEnd = False

    def connectionMade(self) -> None:
        self.server.transport.registerProducer(self.transport, True)  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        if self.editor is None:
            self.server.send(data)
            return
        if self._typedToTheEnd:
            return
        echo, lines, ended = self.editor.feed(data)
        self.transport.write(echo)  # type: ignore[union-attr]
        if lines:
            self.server.send(b"".join(lines))
        if ended:
            self._typedToTheEnd = True
            self.readConnectionLost()

    def readConnectionLost(self) -> None:
        self.server.close()

    def writeConnectionLost(self) -> None:
        """Standard output is gone; nothing more can be shown."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.ended.callback(None)


async def chat(reactor: Any, options: Options, log: Logger) -> None:
    """Connect, then relay between the terminal and the server until done."""
    where = f"{options['host']}:{options['port']}"
    display = Display(
        log, options["timestamps"], escape=os.isatty(1) and not options["raw"]
    )
    editor = None
    if os.isatty(0) and os.isatty(1):
        # Before connecting: keys typed meanwhile reach the editor, never the
        # terminal's own line editing.
        editor = LineEditor()
        _editLinesHere(reactor)
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
    keyboard = Keyboard(server, editor)
    stdio = StandardIO(keyboard, reactor=reactor)
    display.attach(stdio, editor)
    await server.ended
    stdio.loseConnection()
    await keyboard.ended
    if not server.closing:
        _fail(log, f"connection to {where} {_dropped(server.reason)}")
    log.info("disconnected from {where}", category="STATE", where=where)


def _editLinesHere(reactor: Any) -> None:
    """
    Turn the terminal's own echo and line editing off (Ctrl+C still
    interrupts), until the reactor has stopped.
    """
    saved = termios.tcgetattr(0)
    mode = termios.tcgetattr(0)
    mode[3] &= ~(termios.ICANON | termios.ECHO)
    mode[6][termios.VMIN] = 1
    mode[6][termios.VTIME] = 0
    termios.tcsetattr(0, termios.TCSANOW, mode)
    reactor.addSystemEventTrigger(
        "after", "shutdown", termios.tcsetattr, 0, termios.TCSADRAIN, saved
    )


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


def _clientLog(path: str | None, reactor: Any) -> tuple[Logger, Callable[[], None]]:
    """
    The client's logger, and what closes it once nothing more is logged:
    with a C{path}, it appends to that file in the server log's format,
    flushed every second.
    """
    if path is None:
        return Logger(observer=LogPublisher()), lambda: None  # no observers
    observer = LogFileObserver(openLog(path), component="client")
    flusher = LoopingCall(observer.flush)
    flusher.clock = reactor
    flusher.start(LOG_FLUSH_INTERVAL, now=False)
    reactor.addSystemEventTrigger("before", "shutdown", flusher.stop)
    return Logger(observer=observer), observer.close


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
    options = parseCommandLine(Options())
    from twisted.internet import reactor

    try:
        log, closeLog = _clientLog(options["log"], reactor)
    except OSError as failed:
        raise SystemExit(f"{PROGRAM}: --log: {failed}") from None

    def run(reactor: Any) -> Deferred[None]:
        # The connection can log its end after Ctrl+C has stopped the
        # reactor: the log is closed once the conversation is over.
        done = Deferred.fromCoroutine(chat(reactor, options, log))
        return done.addBoth(_closing, closeLog)

    react(run)


def _closing(result: object, close: Callable[[], None]) -> object:
    close()
    return result
