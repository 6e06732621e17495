"""
C{chat-client HOST PORT}: an interactive client for the chat server.

Every line typed on standard input is sent; every line received is written
to standard output as it arrives.  Only complete lines are printed: a partial
line is held until its newline (or the end of the connection).

Through pipes, bytes are unchanged both ways.  On a terminal, control
characters received (other than tab) are shown escaped, so that a peer
cannot retitle the terminal or overwrite a line (C{--raw} prints them as
they are); the line being typed is edited with Twisted's line editor
(L{twisted.conch.recvline}), with a history of the lines typed before; a
line arriving meanwhile is printed above it, and the prompt and the partial
input are drawn again below, as IRC clients do; and a line sent is shown as
the user's own, C{me: ...}.
"""

from __future__ import annotations

import os
import sys
import termios
import time
from collections.abc import Callable
from typing import Any, NoReturn

from twisted.conch.insults.insults import ServerProtocol
from twisted.conch.recvline import HistoricRecvLine
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

from chat.app.log import LogFileObserver, openLog
from chat.core import wire
from chat.core.text import printable
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


class Display:
    """
    Where received lines go: standard output, optionally time-stamped and
    escaped (on a terminal, above the line being typed), and the log.
    """

    def __init__(self, log: Logger, timestamps: bool, escape: bool = False) -> None:
        self.log = log
        self.timestamps = timestamps
        self.escape = escape
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
        split = _splitLines(lines)
        for line in split:
            self.log.info("{line}", category="RX", line=printable(line.rstrip(b"\n")))
        if self.escape:
            split = [_escaped(line) for line in split]
        self._print(split)

    def sent(self, line: bytes) -> None:
        """Print C{line}, just typed and sent, as the user's own."""
        self._print([OWN_LINE + line + b"\n"])

    def _print(self, lines: list[bytes]) -> None:
        if self.timestamps:
            stamp = time.strftime("%H:%M:%S ").encode("ascii")
            lines = [stamp + line for line in lines]
        if self._output is None:
            self._held.extend(lines)
        else:
            self._output.write(b"".join(lines))


OWN_LINE = b"me: "
"""What a line the user typed on a terminal is shown after, once sent."""


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
    Standard input and output through pipes: what is read goes to the server
    unchanged (reading pauses while the connection cannot take more), and at
    end of input the connection is closed once all of it has been written.

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

    def close(self) -> None:
        """Close standard input and output."""
        self.transport.loseConnection()  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.ended.callback(None)


PROMPT = b"> "


class TerminalInput(HistoricRecvLine):
    """
    The line being typed on a terminal, edited by Twisted's line editor:
    Left, Right, Home, End, Backspace, Delete and Insert edit it, Up and
    Down bring back the lines typed before, Enter sends it; besides, Ctrl+U
    erases it and Ctrl+D on an empty line ends the input.

    What the client prints (L{write}) goes above the line being typed,
    which is then drawn again below, prompt and all; a line sent is shown
    there too, as the user's own (L{Display.sent}).

    @ivar ended: fires once the terminal is closed.
    """

    ps = (PROMPT, PROMPT)

    def __init__(self, server: ServerConnection, display: Display) -> None:
        self.server = server
        self.display = display
        self.ended: Deferred[None] = Deferred()
        self._character = b""  # the first bytes of a UTF-8 character
        self._typedToTheEnd = False
        self._closed = False

    def connectionMade(self) -> None:
        super().connectionMade()
        self.keyHandlers.update(
            {
                b"\x04": self._endOfInput,
                b"\x08": self.handle_BACKSPACE,
                b"\x15": self._eraseInput,
            }
        )
        transport = self.terminal.transport
        self.server.transport.registerProducer(transport, True)  # type: ignore[union-attr]

    def initializeScreen(self) -> None:
        # As the library does, but without resetting (and so clearing) the
        # terminal first.
        self.terminal.write(self.ps[self.pn])
        self.setInsertMode()

    def keystrokeReceived(self, keyID: Any, modifier: object) -> None:
        if self._typedToTheEnd:
            return
        if isinstance(keyID, bytes) and keyID not in self.keyHandlers:
            self._typed(keyID)
        else:
            self._character = b""
            super().keystrokeReceived(keyID, modifier)

    def _typed(self, byte: bytes) -> None:
        """
        Take a byte typed: UTF-8 is gathered into whole characters, each of
        which the cursor moves over at once; other control characters are
        ignored.
        """
        if byte >= b"\x80":
            self._character += byte
            if len(self._character) < _utf8Length(self._character[0]):
                return
            byte, self._character = self._character, b""
        elif byte < b" ":
            return
        self.characterReceived(byte, False)

    def handle_TAB(self) -> None:
        # The library's moves the cursor but adds the spaces at the end of
        # the line: type them at the cursor instead.
        for _ in range(self.TABSTOP - self.lineBufferIndex % self.TABSTOP):
            self.characterReceived(b" ", False)

    def lineReceived(self, line: bytes) -> None:
        # The library has moved to a new line: the one typed becomes the
        # user's own, printed above the new, empty one.
        self.terminal.cursorUp(1)
        self.server.send(line + b"\n")
        self.display.sent(line)

    def write(self, text: bytes) -> None:
        """Print C{text} above the line being typed, then draw it again."""
        if not text:
            return
        if not text.endswith(b"\n"):
            text += b"\n"  # the end of the connection's last, partial line
        self._erase()
        self.terminal.write(text)
        self.drawInputLine()
        behind = len(self.lineBuffer) - self.lineBufferIndex
        if behind:
            self.terminal.cursorBackward(behind)

    def writeSequence(self, texts: list[bytes]) -> None:
        self.write(b"".join(texts))

    def close(self) -> None:
        """
        Erase the line being typed, turn the terminal's insert mode off again
        and close the terminal.
        """
        if self._closed:
            return
        self._closed = True
        self._erase()
        self.setTypeoverMode()
        self.terminal.transport.loseConnection()

    def interrupted(self) -> Deferred[None]:
        """
        The client is stopping (Ctrl+C): close the terminal, and tell when
        what was written to it has been (or it would be lost).
        """
        self.close()
        return self.ended

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.ended.callback(None)

    def _erase(self) -> None:
        self.terminal.write(b"\r")
        self.terminal.eraseToLineEnd()

    def _eraseInput(self) -> None:
        self.handle_HOME()
        self.terminal.eraseToLineEnd()
        self.lineBuffer = []
        self.lineBufferIndex = 0

    def _endOfInput(self) -> None:
        if not self.lineBuffer:
            self._typedToTheEnd = True
            self.server.close()


def _utf8Length(first: int) -> int:
    """How many bytes the UTF-8 character starting with C{first} has."""
    return 1 + (first >= 0xC0) + (first >= 0xE0) + (first >= 0xF0)


async def chat(reactor: Any, options: Options, log: Logger) -> None:
    """Connect, then relay between the terminal and the server until done."""
    where = f"{options['host']}:{options['port']}"
    display = Display(
        log, options["timestamps"], escape=os.isatty(1) and not options["raw"]
    )
    terminal = os.isatty(0) and os.isatty(1)
    if terminal:
        # Before connecting: keys typed meanwhile wait for the line editor,
        # never reaching the terminal's own.
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
    keyboard: Keyboard | TerminalInput
    if terminal:
        keyboard = TerminalInput(server, display)
        StandardIO(ServerProtocol(lambda: keyboard), reactor=reactor)
        reactor.addSystemEventTrigger("before", "shutdown", keyboard.interrupted)
        display.attach(keyboard)
    else:
        keyboard = Keyboard(server)
        display.attach(StandardIO(keyboard, reactor=reactor))
    await server.ended
    keyboard.close()
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
