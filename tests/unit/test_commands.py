"""
Slash commands and nicks, in memory: every rule, and the
bad input people will send.
"""

from __future__ import annotations

import pytest

from chat.core import wire
from chat.core.limits import Limits
from chat.core.names import validNick
from chat.people.commands import HELP
from chat.tcp.protocol import ChatProtocol
from tests.support.fakes import FakeRoom, RecordingTransport

Pair = tuple[ChatProtocol, RecordingTransport]


def room(
    maxLine: int = 65536, limits: Limits | None = None
) -> tuple[FakeRoom, Pair, Pair]:
    """A room with --commands and two clients who have seen each other."""
    fake = FakeRoom(maxLine, limits, commands=True)
    a, b = fake.connect(), fake.connect()
    fake.received(a[1])
    fake.received(b[1])
    return fake, a, b


@pytest.mark.parametrize(
    "name",
    [b"a", b"Alice_the-2nd", b"x" * 32, b"clientX", b"client", b"Server2"],
)
def test_goodNicks(name: bytes) -> None:
    """
    Up to 32 ASCII letters, digits, underscores and hyphens are a nick,
    C{client} alone and names that merely start like an id or C{server} too.
    """
    assert validNick(name)


@pytest.mark.parametrize(
    "name",
    [
        b"",
        b"x" * 33,
        b"al ice",
        b"al.ice",
        b"\xffalice",
        b"alice\x00",
        b"client7",
        b"CLIENT12",
        b"server",
        b"SeRvEr",
        "zoë".encode(),
        b"ali\rce",
    ],
)
def test_badNicks(name: bytes) -> None:
    """
    An empty, too long, spaced, punctuated or non-ASCII nick, one with
    control bytes, or one that could pass for an id or C{server} whatever
    its capitals, is refused to its sender alone; the next line is relayed
    as usual.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/nick " + name + b"\nnext\n")
    assert fake.received(ta) == wire.INVALID_NICK
    assert fake.received(tb) == b"client 0: next\n"


def test_nick() -> None:
    """Others are told; later lines and the leave notice use the nick."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"before\n/nick alice\nafter\n")
    assert fake.received(ta) == b""
    assert fake.received(tb) == (
        b"client 0: before\nserver: client 0 is now alice\nalice: after\n"
    )
    a.dataReceived(b"/nick Alicia\n")
    assert fake.received(tb) == b"server: alice is now Alicia\n"
    fake.disconnect(a)
    assert fake.received(tb) == b"server: Alicia just left\n"


def test_nickTakenIgnoringCase() -> None:
    """
    A nick already taken, whatever its capitals, is refused to the one
    asking, who stays known by its id.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/nick alice\n")
    b.dataReceived(b"/nick ALICE\nstill me\n")
    assert fake.received(tb) == b"server: client 0 is now alice\n" + wire.nickTaken(
        b"ALICE"
    )
    assert fake.received(ta) == b"client 1: still me\n"


def test_nickChangesCaseOfItsOwn() -> None:
    """
    A client may change the case of its own nick, and the others are told;
    it is not refused as taken.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/nick alice\n/nick Alice\n")
    assert fake.received(tb) == (
        b"server: client 0 is now alice\nserver: alice is now Alice\n"
    )
    assert fake.received(ta) == b""


def test_nickFreedOnLeaving() -> None:
    """
    A nick is free once its holder has left: another client takes it and is
    known by it.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/nick alice\n")
    fake.disconnect(a)
    b.dataReceived(b"/nick alice\n")
    assert fake.received(tb) == b"server: client 0 is now alice\n" + (
        b"server: alice just left\n"
    )
    c, tc = fake.connect()
    fake.received(tc)
    b.dataReceived(b"hi\n")
    assert fake.received(tc) == b"alice: hi\n"


def test_nickFreedOnRenaming() -> None:
    """A client's old nick is free for another once it has taken a new one."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/nick alice\n/nick alicia\n")
    b.dataReceived(b"/nick alice\n")
    assert fake.received(ta) == b"server: client 1 is now alice\n"


def test_me() -> None:
    """
    C{/me} is shown to the others as an action of the sender's name, its
    text with its spaces as sent; the sender gets nothing back.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/me waves\n/nick alice\n/me  smiles \n")
    assert fake.received(tb) == (
        b"* client 0 waves\nserver: client 0 is now alice\n* alice  smiles \n"
    )
    assert fake.received(ta) == b""


def test_msg() -> None:
    """Only the addressee receives it; the sender and the others nothing."""
    fake, (a, ta), (b, tb) = room()
    c, tc = fake.connect()
    fake.received(ta), fake.received(tb)
    b.dataReceived(b"/nick bob\n")
    a.dataReceived(b"/msg BOB hello there\nsentinel\n")
    assert fake.received(tb) == b"client 0 (private): hello there\nclient 0: sentinel\n"
    assert fake.received(tc) == b"server: client 1 is now bob\nclient 0: sentinel\n"
    assert fake.received(ta) == b"server: client 1 is now bob\n"


def test_msgErrors() -> None:
    """
    C{/msg} to a name nobody has (C{client1} is none) is answered with no
    such nick, and without text with its usage; the others get nothing.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/msg nobody hi\n/msg client1 hi\n/msg\n/msg bob\n")
    assert fake.received(ta) == (
        wire.noSuchNick(b"nobody")
        + wire.noSuchNick(b"client1")
        + b"server: usage: /msg NAME TEXT\n" * 2
    )
    assert fake.received(tb) == b""


def test_who() -> None:
    """
    C{/who} answers its sender alone with the count and the names, nicks
    where taken and ids otherwise.
    """
    fake, (a, ta), (b, tb) = room()
    b.dataReceived(b"/nick bob\n")
    fake.received(ta)
    a.dataReceived(b"/who\n")
    assert fake.received(ta) == b"server: 2 clients: client 0, bob\n"
    assert fake.received(tb) == b""


def test_quit() -> None:
    """The client is closed; nothing it sent after /quit is relayed."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"last\n/quit gone fishing\nnot relayed\npartial")
    assert fake.received(tb) == (
        b"client 0: last\nserver: client 0 just left (gone fishing)\n"
    )
    assert ta.disconnecting
    b.dataReceived(b"/nick bob\n/quit\n")
    c, tc = fake.connect()
    assert fake.received(tc) == b""


def test_quitWithoutText() -> None:
    """C{/quit} without text leaves with a plain leave notice, under the nick."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/nick al\n/quit\n")
    assert fake.received(tb) == b"server: client 0 is now al\nserver: al just left\n"


def test_help() -> None:
    """
    C{/help} answers its sender alone with the help text, each line a server
    notice.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/help\n")
    received = fake.received(ta)
    assert received == HELP
    assert all(line.startswith(b"server: ") for line in received.splitlines())
    assert fake.received(tb) == b""


def test_unknownCommand() -> None:
    """
    An unknown command, a lone C{/} too, is answered to its sender alone;
    a known one is run whatever its capitals.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/dance now\n/\n/NICK alice\n")
    assert fake.received(ta) == (
        wire.unknownCommand(b"/dance") + wire.unknownCommand(b"/")
    )
    assert fake.received(tb) == b"server: client 0 is now alice\n"


def test_escape() -> None:
    """// relays the line with one / removed; a lone / in the middle is text."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"//nick x\n///\na/b\n")
    assert fake.received(tb) == b"client 0: /nick x\nclient 0: //\nclient 0: a/b\n"


def test_commandsOffAreRelayed() -> None:
    """Without --commands a slash line is an ordinary line, relayed as it is."""
    fake = FakeRoom()
    (a, ta), (_, tb) = fake.connect(), fake.connect()
    fake.received(ta)
    a.dataReceived(b"/nick alice\n//x\n")
    assert fake.received(tb) == b"client 0: /nick alice\nclient 0: //x\n"


def test_commandAtMaxLine() -> None:
    """
    A command as long as the maximum line runs; a longer one is refused
    whole, never cut into a command and text.
    """
    fake, (a, ta), (b, tb) = room(maxLine=16)
    a.dataReceived(b"/nick " + b"n" * 10 + b"\n")
    assert fake.received(tb) == b"server: client 0 is now nnnnnnnnnn\n"
    a.dataReceived(b"/nick " + b"m" * 12 + b"\n")
    assert fake.received(ta) == wire.LINE_TOO_LONG
    assert fake.received(tb) == b""


def test_floodControlCountsCommands() -> None:
    """Commands cost a line each: past the burst, input waits unread."""
    fake, (a, ta), (b, tb) = room(limits=Limits(floodRate=1.0, floodBurst=3))
    a.dataReceived(b"/who\n" * 3 + b"/nick late\n")
    assert fake.received(ta) == b"server: 2 clients: client 0, client 1\n" * 3
    assert fake.received(tb) == b""
    assert a.buffered == len(b"/nick late\n")
    fake.clock.advance(1.0)
    assert fake.received(tb) == b"server: client 0 is now late\n"


def test_partialCommandAtDisconnect() -> None:
    """A half-typed command is not run when its sender goes away."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"line\n/nick half")
    fake.disconnect(a)
    assert fake.received(tb) == b"client 0: line\nserver: client 0 just left\n"


def test_commandFlood() -> None:
    """Thousands of commands in one chunk: answered in order, nothing lost."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/who\n/me x\n" * 2000 + b"end\n")
    assert fake.received(ta) == b"server: 2 clients: client 0, client 1\n" * 2000
    assert fake.received(tb) == b"* client 0 x\n" * 2000 + b"client 0: end\n"


def test_quitTextCannotForgeANotice() -> None:
    """
    The text of /quit is quoted in the leave notice with control
    characters, line and paragraph separators and bytes that are not
    UTF-8 replaced by U+FFFD: the notice stays one line of its own.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(
        "/quit bye\rserver: fake\x1b[2J\u2028alice: hi\x85\x7f".encode() + b"\xff\n"
    )
    assert (
        fake.received(tb)
        == (
            "server: client 0 just left (bye\ufffdserver: fake\ufffd[2J\ufffdalice: hi"
            "\ufffd\ufffd\ufffd)\n"
        ).encode()
    )


def test_quitTextKeepsWhatIsPrintable() -> None:
    """Printable text, in any script, is quoted as it was sent."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived("/quit à bientôt, 再见 ✓\n".encode())
    assert (
        fake.received(tb) == "server: client 0 just left (à bientôt, 再见 ✓)\n".encode()
    )


def test_errorsQuoteSafely() -> None:
    """The answers that quote a command or a name replace control characters."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/da\x1bnce\n/msg b\rob hi\n")
    assert (
        fake.received(ta)
        == (
            "server: unknown command /da\ufffdnce, try /help\n"
            "server: no such nick b\ufffdob\n"
        ).encode()
    )


def test_whoCountsInTheSingular() -> None:
    """/who says 1 client for one, K clients for more."""
    fake = FakeRoom(commands=True)
    a, ta = fake.connect()
    a.dataReceived(b"/who\n")
    assert fake.received(ta) == b"server: 1 client: client 0\n"
    fake.connect()
    fake.received(ta)
    a.dataReceived(b"/who\n")
    assert fake.received(ta) == b"server: 2 clients: client 0, client 1\n"
