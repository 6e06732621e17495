"""
Commands act on whole lines, never on the pieces of a line cut at the
maximum line length, in memory: the line splitter with commands on, before
and after login.
"""

from __future__ import annotations

from pathlib import Path

import bcrypt
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.logger import Logger

from chat.core import wire
from chat.core.limits import Limits
from chat.people import htpasswd
from chat.people.auth import (
    FAILURE_DELAY,
    Gatekeeper,
    PasswordFileChecker,
    Verify,
    passwordPortal,
)
from chat.tcp.protocol import ChatProtocol
from tests.support.fakes import FakeRoom, RecordingTransport

MAX = 16
Pair = tuple[ChatProtocol, RecordingTransport]
SECRET = b"-SECRET-TAIL"


def room(
    limits: Limits | None = None, commands: bool = True, maxLine: int = MAX
) -> tuple[FakeRoom, Pair, Pair]:
    """A room of lines of at most C{maxLine} bytes and two clients."""
    fake = FakeRoom(maxLine, limits, commands=commands)
    a, b = fake.connect(), fake.connect()
    fake.received(a[1])
    fake.received(b[1])
    return fake, a, b


def logged(fake: FakeRoom) -> str:
    return "\n".join(repr(event) for event in fake.events)


def test_overlongCommandRefusedWhole() -> None:
    """
    A /msg longer than the maximum is refused whole: the sender is told,
    and no piece of it reaches anyone or the log; the next line does.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/nick bob\n")
    fake.received(ta)
    fake.received(tb)
    a.dataReceived(b"/msg client 1 " + b"S" * 20 + SECRET + b"\nafter\n")
    assert fake.received(ta) == wire.LINE_TOO_LONG
    assert fake.received(tb) == b"bob: after\n"
    assert "SECRET" not in logged(fake)
    assert "SSS" not in logged(fake)


def test_overlongCommandInManyReads() -> None:
    """
    A command line that comes a few bytes a read is refused as soon as it
    is too long; what follows of it is dropped as it comes, never buffered
    past the maximum, until its newline; the line after it is relayed.
    """
    fake, (a, ta), (b, tb) = room()
    line = b"/me " + b"x" * 40 + SECRET + b"\r\n"
    for at in range(0, len(line), 3):
        a.dataReceived(line[at : at + 3])
        assert a.buffered <= MAX
    a.dataReceived(b"after\n")
    assert fake.received(ta) == wire.LINE_TOO_LONG
    assert fake.received(tb) == b"client 0: after\n"
    assert "SECRET" not in logged(fake)


def test_overlongCommandTailInTheNextRead() -> None:
    """The tail of a refused line and the next line in one read."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"/who " + b"x" * 20)
    a.dataReceived(SECRET + b"\nafter\n/who\n")
    assert fake.received(ta) == (
        wire.LINE_TOO_LONG + b"server: 2 clients: client 0, client 1\n"
    )
    assert fake.received(tb) == b"client 0: after\n"


def test_commandOfExactlyTheMaximum() -> None:
    """
    A command line of exactly the maximum runs, with LF or CRLF, in one
    read or with the CRLF split across two; one byte more is refused.
    """
    fake, (a, ta), (b, tb) = room()
    command = b"/nick " + b"n" * (MAX - 6)
    assert len(command) == MAX
    a.dataReceived(command + b"\n")
    assert fake.received(tb) == b"server: client 0 is now nnnnnnnnnn\n"
    a.dataReceived(b"/nick " + b"m" * (MAX - 6) + b"\r\n")
    assert fake.received(tb) == b"server: nnnnnnnnnn is now mmmmmmmmmm\n"
    a.dataReceived(b"/nick " + b"o" * (MAX - 6) + b"\r")
    a.dataReceived(b"\n")
    assert fake.received(tb) == b"server: mmmmmmmmmm is now oooooooooo\n"
    a.dataReceived(b"/nick " + b"p" * (MAX - 5) + b"\r\n")
    a.dataReceived(b"/nick " + b"q" * (MAX - 5))
    a.dataReceived(b"\r\n")
    assert fake.received(ta) == wire.LINE_TOO_LONG * 2
    assert fake.received(tb) == b""


def test_escapedSlashOverlongRefused() -> None:
    """
    A line that begins with // is relayed with one / removed when it fits,
    and refused whole, as any command line, when it does not.
    """
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"//" + b"s" * (MAX - 2) + b"\n//" + b"t" * (MAX - 1) + b"\nok\n")
    assert fake.received(ta) == wire.LINE_TOO_LONG
    assert fake.received(tb) == b"client 0: /" + b"s" * (MAX - 2) + b"\nclient 0: ok\n"


def test_overlongTextStillCut() -> None:
    """With commands on, a long line that is not a command is cut as always."""
    fake, (a, ta), (b, tb) = room()
    line = b"t" * (MAX * 2 + 3)
    a.dataReceived(line[:20])
    a.dataReceived(line[20:] + b"\n")
    assert fake.received(ta) == b""
    assert fake.received(tb) == b"".join(
        b"client 0: " + line[at : at + MAX] + b"\n" for at in range(0, len(line), MAX)
    )


def test_pieceBeginningWithSlashIsText() -> None:
    """
    A piece of a long text line that begins with / is relayed as it is,
    never run as a command, whether the line came in one read or its tail
    in a later one, and whatever the length of its tail; the sender stays.
    """
    fake, (a, ta), (b, tb) = room()
    tail = b"/quit bye"
    line = b"t" * MAX + tail
    a.dataReceived(line + b"\n")
    a.dataReceived(line[: MAX + 2])
    a.dataReceived(line[MAX + 2 :] + b"\n")
    long = b"u" * MAX + b"/" + b"v" * (MAX + 3)
    a.dataReceived(long[: MAX + 1])
    a.dataReceived(long[MAX + 1 :] + b"\nafter\n")
    assert fake.received(ta) == b""
    assert fake.received(tb) == (
        (b"client 0: " + b"t" * MAX + b"\nclient 0: " + tail + b"\n") * 2
        + b"client 0: "
        + b"u" * MAX
        + b"\nclient 0: "
        + long[MAX : 2 * MAX]
        + b"\nclient 0: "
        + long[2 * MAX :]
        + b"\nclient 0: after\n"
    )
    assert list(fake.room.clients) == [0, 1]


def test_withoutCommandsSlashLinesAreCut() -> None:
    """Without --commands a long line that begins with / is cut as any line."""
    fake, (a, ta), (b, tb) = room(commands=False)
    line = b"/msg bob " + b"S" * 20 + SECRET
    a.dataReceived(line + b"\n")
    assert fake.received(tb) == (
        b"client 0: " + line[:MAX] + b"\nclient 0: " + line[MAX : 2 * MAX] + b"\n"
        b"client 0: " + line[2 * MAX :] + b"\n"
    )


def test_refusedLineCostsOneLine() -> None:
    """
    Under flood control a refused line costs one line, whether it came in
    one read or was refused while it was still coming; its dropped tail
    costs nothing.
    """
    fake, (a, ta), (b, tb) = room(limits=Limits(floodRate=1.0, floodBurst=3))
    a.dataReceived(b"/me " + b"x" * (MAX * 5) + b"\n")
    a.dataReceived(b"/me " + b"y" * (MAX * 5))
    a.dataReceived(b"y" * (MAX * 5) + b"\nfits\nwaits\n")
    assert fake.received(ta) == wire.LINE_TOO_LONG * 2
    assert fake.received(tb) == b"client 0: fits\n"
    assert a.buffered == len(b"waits\n")
    fake.clock.advance(1.0)
    assert fake.received(tb) == b"client 0: waits\n"


def test_refusedWhileLeaving() -> None:
    """A command line being dropped when its sender leaves: nothing of it."""
    fake, (a, ta), (b, tb) = room()
    a.dataReceived(b"text\n/me " + b"z" * 30)
    fake.disconnect(a)
    assert fake.received(tb) == b"client 0: text\nserver: client 0 just left\n"


def test_overlongCommandHeldThenRead() -> None:
    """
    Lines that wait unread (flood control) with an overlong command among
    them are split when read as when they came: the command is refused.
    """
    fake, (a, ta), (b, tb) = room(limits=Limits(floodRate=1.0, floodBurst=1))
    a.dataReceived(b"one\n/me " + b"w" * 30 + SECRET + b"\ntwo\n")
    assert fake.received(tb) == b"client 0: one\n"
    fake.clock.advance(1.0)
    assert fake.received(ta) == wire.LINE_TOO_LONG
    fake.clock.advance(1.0)
    assert fake.received(tb) == b"client 0: two\n"
    assert "SECRET" not in logged(fake)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"", b"t", b"/", b"//", b"/me "]),
            st.integers(0, MAX * 3),
            st.sampled_from([b"a", b"/", b"a/"]),
            st.booleans(),
        ),
        max_size=8,
    ),
    st.lists(st.integers(1, MAX * 2), min_size=1, max_size=6),
)
def test_anyChunking(
    lines: list[tuple[bytes, int, bytes, bool]], sizes: list[int]
) -> None:
    """
    However lines are cut into reads, with LF or CRLF: a command line longer
    than the maximum is refused whole, every other line arrives as it would
    have in one read, its pieces as they are even when one begins with /,
    and no more than the maximum (and a CR) is buffered.
    """
    fake, (a, ta), (b, tb) = room()
    stream, expected, refused = b"", b"", 0
    for start, size, fill, crlf in lines:
        line = (start + fill * size)[: len(start) + size]
        stream += line + (b"\r\n" if crlf else b"\n")
        if not line.startswith(b"/"):
            for at in range(0, max(len(line), 1), MAX):
                expected += b"client 0: " + line[at : at + MAX] + b"\n"
        elif len(line) > MAX:
            refused += 1
        elif line.startswith(b"//"):
            expected += b"client 0: " + line[1:] + b"\n"
        elif line.startswith(b"/me "):
            expected += wire.action(b"client 0", line[4:])
        # else an unknown command: the sender alone is answered
    at, turn = 0, 0
    while at < len(stream):
        size = sizes[turn % len(sizes)]
        a.dataReceived(stream[at : at + size])
        assert a.buffered <= MAX + 1
        at, turn = at + size, turn + 1
    assert fake.received(tb) == expected
    assert fake.received(ta).count(wire.LINE_TOO_LONG) == refused


# Before login


def authRoom(tmp_path: Path, verify: Verify | None = None) -> tuple[FakeRoom, bytes]:
    """
    A room with --auth and lines of at most 100 bytes, whose user mallory
    has a password longer than that; and that password.
    """
    password = b"p" * 72 + b"-SECRET-TAIL-" + b"q" * 37
    path = tmp_path / "users"
    htpasswd.write(
        str(path),
        {
            b"mallory": bcrypt.hashpw(password[:72], bcrypt.gensalt(4)),
            b"alice": bcrypt.hashpw(b"wonderland", bcrypt.gensalt(4)),
            b"bob": bcrypt.hashpw(b"builder", bcrypt.gensalt(4)),
        },
    )
    checker = PasswordFileChecker(
        str(path),
        verify=verify or (lambda given, hashed: succeed(bcrypt.checkpw(given, hashed))),
    )

    def gatekeeper(clock: Clock, log: Logger) -> Gatekeeper:
        return Gatekeeper(passwordPortal(checker), checker, clock, log)

    return FakeRoom(100, gatekeeper=gatekeeper), password


def loggedIn(fake: FakeRoom, name: bytes, password: bytes) -> Pair:
    client, transport = fake.connect()
    client.dataReceived(b"/login " + name + b" " + password + b"\n")
    fake.received(transport)
    return client, transport


def test_overlongLoginFails(tmp_path: Path) -> None:
    """
    A /login line longer than the maximum is a failed login, even when the
    first 72 bytes of the password (all bcrypt reads) are right: nothing of
    it reaches the room or the log; the room goes on.
    """
    fake, password = authRoom(tmp_path)
    alice, ta = loggedIn(fake, b"alice", b"wonderland")
    mallory, tm = fake.connect()
    mallory.dataReceived(b"/login mallory " + password + b"\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(tm) == wire.LOGIN_FAILED
    assert tm.disconnecting
    assert list(fake.room.clients) == [0]
    alice.dataReceived(b"/who\n")  # the answer comes next: nothing came before
    assert fake.received(ta) == wire.who([b"alice"])
    assert "SECRET" not in logged(fake)
    assert "login failed" in logged(fake)


def test_overlongLinesBeforeLoginCountAsFailures(tmp_path: Path) -> None:
    """
    Any line longer than the maximum before login, command or not, in one
    read or many, counts as a failure for the address: past the limit, the
    right password fails too.
    """
    fake, password = authRoom(tmp_path)
    for data in ([b"x" * 101 + b"\n"], [b"/login alice ", b"w" * 90, b"ww\n"]) * 3:
        client, transport = fake.connect()
        for chunk in data:
            client.dataReceived(chunk)
        assert client.buffered <= 100
    fake.clock.advance(FAILURE_DELAY)
    client, transport = fake.connect()
    client.dataReceived(b"/login alice wonderland\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(transport) == wire.LOGIN_FAILED
    assert not fake.room.clients


def test_overlongLineAfterLoginInTheSameRead(tmp_path: Path) -> None:
    """
    Lines sent with the /login, before it is answered, follow it once it
    succeeds: an overlong command among them is refused, the others are
    relayed in order.
    """
    fake, _ = authRoom(tmp_path)
    bob, tb = loggedIn(fake, b"bob", b"builder")
    alice, ta = fake.connect()
    alice.dataReceived(
        b"/login ALICE wonderland\nbefore\n/me " + b"m" * 100 + SECRET + b"\nafter\n"
    )
    assert fake.received(ta) == wire.LINE_TOO_LONG
    assert fake.received(tb) == (
        b"server: client 1 just arrived\nserver: client 1 is now alice\n"
        b"alice: before\nalice: after\n"
    )


def test_overlongLineWhileLoginIsChecked(tmp_path: Path) -> None:
    """
    An overlong line after a /login whose check is still running waits
    behind it with the lines after it, as those lines do.
    """
    checks: list[Deferred[bool]] = []

    def verify(given: bytes, hashed: bytes) -> Deferred[bool]:
        checks.append(Deferred())
        return checks[-1]

    fake, _ = authRoom(tmp_path, verify)
    bob, tb = fake.connect()
    bob.dataReceived(b"/login bob builder\n")
    checks.pop().callback(True)
    fake.received(tb)
    alice, ta = fake.connect()
    alice.dataReceived(
        b"/login alice wonderland\n/me " + b"m" * 100 + SECRET + b"\nafter\n"
    )
    assert fake.received(tb) == b""
    checks.pop().callback(True)
    assert fake.received(ta) == wire.LINE_TOO_LONG
    assert fake.received(tb) == (
        b"server: client 1 just arrived\nserver: client 1 is now alice\nalice: after\n"
    )
    assert "SECRET" not in logged(fake)
