"""
C{chat-client}'s pieces on in-memory transports: its connection, partial
lines, the terminal's display and its line editing.
"""

from __future__ import annotations

from typing import cast

from twisted.conch.insults.helper import TerminalBuffer
from twisted.conch.insults.insults import ClientProtocol, ServerProtocol, modes
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import ILogObserver, LogEvent, Logger, LogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from chat.tools.client import (
    HALF_CLOSE_GRACE,
    Display,
    Keyboard,
    PartialLines,
    ServerConnection,
    TerminalInput,
)


class PartialLinesTests(SynchronousTestCase):
    def test_onlyCompleteLinesPassed(self) -> None:
        """
        L{PartialLines} passes on complete lines only, holding a partial one
        until its newline comes, and gives up the rest once.
        """
        lines = PartialLines()
        self.assertEqual(lines.complete(b"one\ntw"), b"one\n")
        self.assertEqual(lines.complete(b"o"), b"")
        self.assertEqual(lines.complete(b"\nthree\nfo"), b"two\nthree\n")
        self.assertEqual(lines.rest(), b"fo")
        self.assertEqual(lines.rest(), b"")


class HalfCloseableTransport(StringTransport):
    writeClosed = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True


class ConnectionTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.events: list[LogEvent] = []
        log = Logger(observer=cast(ILogObserver, self.events.append))
        self.display = Display(log, timestamps=False)
        self.stdout = StringTransport()
        self.display.attach(self.stdout)
        self.clock = Clock()
        self.server = ServerConnection(self.display, self.clock)
        self.network = HalfCloseableTransport()
        self.server.makeConnection(self.network)
        self.keyboard = Keyboard(self.server)
        self.keyboard.makeConnection(self.stdout)

    def logged(self, category: str) -> list[str]:
        return [e["line"] for e in self.events if e.get("category") == category]

    def test_partialLineHeldUntilItsNewline(self) -> None:
        """
        A line from the server is printed once its newline comes, its bytes
        unchanged, and logged with them escaped.
        """
        self.server.dataReceived(b"client 0: hel")
        self.assertEqual(self.stdout.value(), b"")
        self.server.dataReceived(b"lo\nclient 0: \xff\x00\n")
        self.assertEqual(self.stdout.value(), b"client 0: hello\nclient 0: \xff\x00\n")
        self.assertEqual(self.logged("RX"), ["client 0: hello", "client 0: \\xff\\x00"])

    def test_partialLinePrintedWhenTheConnectionEnds(self) -> None:
        """
        When the connection is lost, a last line without its newline is
        printed all the same, and C{ended} fires, without a failure.
        """
        self.server.dataReceived(b"server: client 3 just arrived\nno newline")
        self.server.connectionLost(Failure(ConnectionError()))
        self.assertEqual(
            self.stdout.value(), b"server: client 3 just arrived\nno newline"
        )
        self.assertIsNone(self.successResultOf(self.server.ended))
        self.assertFalse(self.server.closing)

    def test_linesBeforeThereIsAnOutputAreHeld(self) -> None:
        """
        What the display is given before it has an output is written to it,
        in order, once it has one.
        """
        display = Display(Logger(observer=LogPublisher()), timestamps=False)
        display.show(b"early\n")
        late = StringTransport()
        display.attach(late)
        display.show(b"late\n")
        self.assertEqual(late.value(), b"early\nlate\n")

    def test_readyAtOnceOverTCPAfterTheHandshakeOverTLS(self) -> None:
        """
        C{ready} fires on connecting over TCP, but over TLS only once the
        handshake is complete.
        """
        self.successResultOf(self.server.ready)
        secure = ServerConnection(self.display, self.clock, secure=True)
        secure.makeConnection(StringTransport())
        self.assertNoResult(secure.ready)
        secure.handshakeCompleted()
        self.successResultOf(secure.ready)

    def test_failedHandshakeFailsReady(self) -> None:
        """
        A TLS connection lost before its handshake completes fails C{ready}
        with the reason.
        """
        secure = ServerConnection(self.display, self.clock, secure=True)
        secure.makeConnection(StringTransport())
        secure.connectionLost(Failure(ConnectionError("certificate verify failed")))
        self.failureResultOf(secure.ready, ConnectionError)

    def test_timestamps(self) -> None:
        """
        With timestamps, each line printed starts with the time, in hours,
        minutes and seconds.
        """
        self.display.timestamps = True
        self.server.dataReceived(b"a\nb\n")
        stamped = self.stdout.value().split(b"\n")
        self.assertRegex(stamped[0], rb"^\d\d:\d\d:\d\d a$")
        self.assertRegex(stamped[1], rb"^\d\d:\d\d:\d\d b$")

    def test_typedBytesSentUnchangedAndLogged(self) -> None:
        """
        What is read from standard input is sent to the server unchanged,
        line ends and a partial line included, and each line is logged as
        sent.
        """
        self.keyboard.dataReceived(b"hi\r\nthere\npart")
        self.assertEqual(self.network.value(), b"hi\r\nthere\npart")
        self.assertEqual(self.logged("TX"), ["hi", "there", "part"])

    def test_loginSentButNotLogged(self) -> None:
        """
        A C{/login} line is sent as typed, but logged without its name and
        password.
        """
        self.keyboard.dataReceived(b"/login alice s3cret\n")
        self.assertEqual(self.network.value(), b"/login alice s3cret\n")
        self.assertEqual(self.logged("TX"), ["/login"])

    def test_endOfInputShutsDownTheSendingHalf(self) -> None:
        """
        At end of input the sending half of the connection is shut down, not
        the whole: what the server still sends is printed, and its closing
        leaves no timer behind.
        """
        self.keyboard.readConnectionLost()
        self.assertTrue(self.server.closing)
        self.assertTrue(self.network.writeClosed)
        self.assertFalse(self.network.disconnecting)
        self.server.dataReceived(b"still printed\n")
        self.assertEqual(self.stdout.value(), b"still printed\n")
        self.server.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_endOfInputAfterTheConnectionIsGone(self) -> None:
        """End of input once the connection is lost does nothing to it."""
        self.server.connectionLost(Failure(ConnectionDone()))
        self.keyboard.readConnectionLost()
        self.assertFalse(self.network.writeClosed)
        self.assertFalse(self.server.closing)

    def test_serverThatDoesNotCloseIsLeft(self) -> None:
        """
        A server that has not closed within the grace period after end of
        input is disconnected from.
        """
        self.keyboard.readConnectionLost()
        self.clock.advance(HALF_CLOSE_GRACE)
        self.assertTrue(self.network.disconnecting)


UP, DOWN, RIGHT, LEFT = b"\x1b[A", b"\x1b[B", b"\x1b[C", b"\x1b[D"
HOME, END, DELETE = b"\x1b[1~", b"\x1b[4~", b"\x1b[3~"


class TerminalInputTests(SynchronousTestCase):
    """
    The line editor on an in-memory terminal: keys go in as a terminal
    sends them, what the client writes is played on Twisted's in-memory
    terminal emulator, and the bytes sent to the server are those of the
    network's transport.
    """

    def setUp(self) -> None:
        self.events: list[LogEvent] = []
        log = Logger(observer=cast(ILogObserver, self.events.append))
        self.display = Display(log, timestamps=False)
        self.server = ServerConnection(self.display, Clock())
        self.network = HalfCloseableTransport()
        self.server.makeConnection(self.network)
        self.input = TerminalInput(self.server, self.display)
        self.stdio = StringTransport()
        self.terminal = ServerProtocol(lambda: self.input)
        self.terminal.makeConnection(self.stdio)
        self.display.attach(self.input)

    def type(self, keys: bytes) -> None:
        self.terminal.dataReceived(keys)

    def screen(self) -> list[bytes]:
        """The screen's lines, down to the cursor's."""
        emulator = ClientProtocol(TerminalBuffer)
        emulator.makeConnection(StringTransport())
        emulator.dataReceived(self.stdio.value())
        self.buffer = cast(TerminalBuffer, emulator.terminal)
        return bytes(self.buffer).split(b"\n")[: self.buffer.y + 1]

    def test_typedLineSentAndShownAsTheUsersOwn(self) -> None:
        """
        Enter sends the line typed (logged as sent), which stays on the
        screen as C{me: ...} above a new prompt.
        """
        self.assertEqual(self.screen(), [b"> "])
        self.type(b"hello there\r")
        self.assertEqual(self.network.value(), b"hello there\n")
        self.assertEqual(self.screen(), [b"me: hello there", b"> "])
        self.assertEqual(
            [e["line"] for e in self.events if e.get("category") == "TX"],
            ["hello there"],
        )

    def test_upAndDownRecallEarlierLines(self) -> None:
        """Up and Down walk through the lines typed before; Enter sends one."""
        self.type(b"one\rtwo\r" + UP)
        self.assertEqual(self.screen()[-1], b"> two")
        self.type(UP)
        self.assertEqual(self.screen()[-1], b"> one")
        self.type(DOWN)
        self.assertEqual(self.screen()[-1], b"> two")
        self.type(b"!\r")
        self.assertEqual(self.network.value(), b"one\ntwo\ntwo!\n")
        self.assertEqual(self.screen()[-2:], [b"me: two!", b"> "])

    def test_editingKeys(self) -> None:
        """
        Left, Right, Home, End, Backspace, Delete and Ctrl+U edit the line;
        other control characters are not typed.
        """
        self.type(b"ac" + LEFT + b"b" + END + b"d" + HOME + DELETE + RIGHT)
        self.assertEqual(self.screen()[-1], b"> bcd")
        self.assertEqual(self.buffer.x, len(b"> b"))
        self.type(b"\x7fx\x01\x07\r")
        self.type(b"thrown away\x15kept\x08t\r")
        self.assertEqual(self.network.value(), b"xcd\nkept\n")
        self.assertEqual(self.screen(), [b"me: xcd", b"me: kept", b"> "])

    def test_tabTypesSpacesToTheNextStopAtTheCursor(self) -> None:
        """Tab types spaces up to the next multiple of four, where the cursor is."""
        self.type(b"a\tb" + HOME + b"\t")
        self.assertEqual(self.screen()[-1], b">     a   b")
        self.assertEqual(self.buffer.x, len(b">     "))
        self.type(b"\r")
        self.assertEqual(self.network.value(), b"    a   b\n")

    def test_utf8CharacterEditedAsOne(self) -> None:
        """
        The bytes of a UTF-8 character are one character to Left and
        Backspace, and are sent as they were typed.
        """
        self.type("né".encode() + b"\x7fo" + LEFT + "€".encode() + b"\r")
        self.assertEqual(self.network.value(), "n€o\n".encode())

    def test_receivedLinePrintedAboveTheInput(self) -> None:
        """
        A line arriving while a line is being typed is printed above it; the
        prompt, the input and the cursor's place in it are drawn again.
        """
        self.type(b"half" + LEFT + LEFT)
        self.server.dataReceived(b"client 0: news\nclient 1: more\n")
        self.assertEqual(
            self.screen(), [b"client 0: news", b"client 1: more", b"> half"]
        )
        self.assertEqual(self.buffer.x, len(b"> ha"))
        self.type(b"X\r")
        self.assertEqual(self.network.value(), b"haXlf\n")
        self.assertEqual(self.screen()[-2:], [b"me: haXlf", b"> "])

    def test_ownLinesTimedLikeReceivedOnes(self) -> None:
        """With timestamps, the user's own lines are stamped as received ones."""
        self.display.timestamps = True
        self.server.dataReceived(b"client 0: hi\n")
        self.type(b"hello\r")
        received, sent, prompt = self.screen()
        self.assertRegex(received, rb"^\d\d:\d\d:\d\d client 0: hi$")
        self.assertRegex(sent, rb"^\d\d:\d\d:\d\d me: hello$")
        self.assertEqual(prompt, b"> ")

    def test_ctrlDEndsInputOnAnEmptyLineOnly(self) -> None:
        """
        Ctrl+D with something typed does nothing; on an empty line it shuts
        the sending half down, and nothing typed afterwards is sent.
        """
        self.type(b"a\x04")
        self.assertFalse(self.server.closing)
        self.type(b"\x15\x04late\r")
        self.assertTrue(self.server.closing)
        self.assertTrue(self.network.writeClosed)
        self.assertEqual(self.network.value(), b"")

    def test_interruptedErasesThePromptWithoutResettingTheTerminal(self) -> None:
        """
        On Ctrl+C, the line being typed is erased, insert mode turned off
        again and standard output closed, and the client waits until that
        is written; the terminal is never reset (which would clear it).
        """
        self.server.dataReceived(b"client 0: kept on the screen\n")
        self.type(b"unsent")
        written = self.input.interrupted()
        self.assertTrue(self.stdio.disconnecting)
        self.assertEqual(self.screen(), [b"client 0: kept on the screen", b""])
        self.assertFalse(self.buffer.modes.get(modes.IRM))
        self.assertNotIn(b"\x1bc", self.stdio.value())
        self.assertNoResult(written)
        self.input.connectionLost(Failure(ConnectionDone()))
        self.successResultOf(written)
        self.assertEqual(self.network.value(), b"")

    def test_readingPausesWithTheConnection(self) -> None:
        """Standard input is the producer the connection to the server pauses."""
        self.assertIs(self.network.producer, self.stdio)
        self.assertTrue(self.network.streaming)


class TerminalDisplayTests(SynchronousTestCase):
    def test_controlCharactersEscapedButTab(self) -> None:
        """
        With escaping, control characters (C1 ones in UTF-8 too) and bytes
        that are not UTF-8 are shown as escapes, so no line can drive the
        terminal; tabs and printable text are shown as they are.
        """
        display = Display(Logger(observer=LogPublisher()), False, escape=True)
        output = StringTransport()
        display.attach(output)
        display.show(b"client 0: \x1b]0;pwned\x07\n\rserver: forged\ta\xc2\x9b\xff\n")
        display.show("no newline, é".encode())
        self.assertEqual(
            output.value(),
            b"client 0: \\x1b]0;pwned\\x07\n\\x0dserver: forged\ta\\x9b\\xff\n"
            + "no newline, é".encode(),
        )
