"""
Logins (SPEC section 9, C{--auth}), in memory: the password file, the
exchange before a connection joins, and the attacks on it.
"""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.logger import Logger

from chat import htpasswd, wire
from chat.auth import (
    FAILURE_DELAY,
    Gatekeeper,
    PasswordFileChecker,
    passwordPortal,
)
from tests.fakes import FakeRoom

HASHES = {
    b"alice": bcrypt.hashpw(b"wonderland", bcrypt.gensalt(4)),
    b"bob": bcrypt.hashpw(b"builder", bcrypt.gensalt(4)),
}


def verifyAtOnce(password: bytes, hashed: bytes) -> Deferred[bool]:
    return succeed(bcrypt.checkpw(password, hashed))


def authRoom(tmp_path: Path, history: int = 0) -> tuple[FakeRoom, PasswordFileChecker]:
    path = tmp_path / "users"
    htpasswd.write(str(path), dict(HASHES))
    checker = PasswordFileChecker(str(path), verify=verifyAtOnce)

    def gatekeeper(clock: Clock, log: Logger) -> Gatekeeper:
        return Gatekeeper(passwordPortal(checker), checker, clock, log, timeout=30.0)

    return FakeRoom(gatekeeper=gatekeeper, history=history), checker


def test_loginJoinsTheRoom(tmp_path: Path) -> None:
    fake, _ = authRoom(tmp_path, history=5)
    a, ta = fake.connect()
    fake.received(ta)
    b, tb = fake.connect()
    assert fake.received(ta) == b""  # nobody told, no id given
    assert not fake.room.clients
    a.dataReceived(b"/login bob builder\n")
    fake.received(ta)
    assert fake.room.clients.keys() == {0}
    b.dataReceived(b"/login ALICE wonderland\nfirst words\n")
    assert fake.received(tb) == wire.historyStart(0) + wire.END_OF_HISTORY
    assert fake.received(ta) == (
        b"server: client 1 just arrived\nserver: client 1 is now alice\n"
        b"alice: first words\n"
    )


def test_nothingBeforeLogin(tmp_path: Path) -> None:
    """A connection not logged in receives nothing of the room's."""
    fake, _ = authRoom(tmp_path)
    a, ta = fake.connect()
    a.dataReceived(b"hello\n" * 1000)
    a.dataReceived(b"again\n")
    assert fake.received(ta) == wire.LOGIN_REQUIRED  # once: no amplification
    b, tb = fake.connect()
    b.dataReceived(b"/login alice wonderland\nhi\n")
    assert fake.received(ta) == b""
    assert fake.received(tb) == b""


def test_failedLogin(tmp_path: Path) -> None:
    """Answered after a delay, then closed; the password is never logged."""
    fake, _ = authRoom(tmp_path)
    a, ta = fake.connect()
    a.dataReceived(b"/login alice hunter2\n")
    assert fake.received(ta) == b""
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(ta) == wire.LOGIN_FAILED
    assert ta.disconnecting
    assert not fake.room.clients
    texts = [repr(event) for event in fake.events]
    assert any("login failed" in text for text in texts)
    assert not any("hunter2" in text for text in texts)


def test_unknownUser(tmp_path: Path) -> None:
    fake, _ = authRoom(tmp_path)
    a, ta = fake.connect()
    a.dataReceived(b"/login mallory wonderland\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(ta) == wire.LOGIN_FAILED


def test_bruteForceLimitedPerAddress(tmp_path: Path) -> None:
    """After 5 failures in a minute, even the right password fails."""
    fake, _ = authRoom(tmp_path)
    for _ in range(5):
        client, transport = fake.connect()
        client.dataReceived(b"/login alice guess\n")
    fake.clock.advance(FAILURE_DELAY)
    client, transport = fake.connect()
    client.dataReceived(b"/login alice wonderland\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(transport) == wire.LOGIN_FAILED
    fake.clock.advance(60.0)
    client, transport = fake.connect()
    client.dataReceived(b"/login alice wonderland\n")
    assert fake.room.clients


def test_loginTimeout(tmp_path: Path) -> None:
    fake, _ = authRoom(tmp_path)
    a, ta = fake.connect()
    a.dataReceived(b"/login alice wonder")
    fake.clock.advance(30.0)
    assert fake.received(ta) == wire.LOGIN_TIMED_OUT
    assert ta.disconnecting


def test_halfTypedLoginAtDisconnect(tmp_path: Path) -> None:
    """A partial /login when the connection goes: nothing relayed or told."""
    fake, _ = authRoom(tmp_path)
    a, ta = fake.connect()
    fake.received(ta)
    a.dataReceived(b"/login alice wonderland\n")
    b, tb = fake.connect()
    b.dataReceived(b"/login alice wonder")
    fake.disconnect(b)
    a.dataReceived(b"/who\n")
    assert fake.received(ta) == b"server: 1 client: alice\n"
    fake.clock.advance(60.0)  # no timer left behind
    assert fake.received(ta) == b""


def test_sameUserTwice(tmp_path: Path) -> None:
    """The second login of a name in use keeps its client N label."""
    fake, _ = authRoom(tmp_path)
    a, ta = fake.connect()
    a.dataReceived(b"/login alice wonderland\n")
    b, tb = fake.connect()
    b.dataReceived(b"/login alice wonderland\n")
    assert fake.received(tb) == wire.nickTaken(b"alice")
    b.dataReceived(b"/login alice wonderland\n")
    assert fake.received(tb) == b"server: you are logged in already\n"


def test_reload(tmp_path: Path) -> None:
    fake, checker = authRoom(tmp_path)
    users = dict(HASHES)
    users[b"carol"] = bcrypt.hashpw(b"singer", bcrypt.gensalt(4))
    htpasswd.write(checker.path, users)
    fake.room.reload()
    a, ta = fake.connect()
    a.dataReceived(b"/login carol singer\n")
    assert fake.room.clients
    Path(checker.path).write_bytes(b"broken\n")
    fake.room.reload()
    assert any("line 1" in repr(event) for event in fake.events)
    b, tb = fake.connect()
    b.dataReceived(b"/login bob builder\n")
    assert len(fake.room.clients) == 2


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"alice\n", "line 1: not name:hash"),
        (b"\nbad name:$2y$05$" + b"a" * 53 + b"\n", "line 2: b'bad name' cannot"),
        (b"client3:" + HASHES[b"alice"] + b"\n", "cannot be a nick"),
        (b"carol:{SHA}abc\n", "line 1: not a bcrypt hash"),
        (b"carol:$apr1$abc$def\n", "not a bcrypt hash"),
    ],
)
def test_malformedFile(tmp_path: Path, content: bytes, complaint: str) -> None:
    path = tmp_path / "users"
    path.write_bytes(content)
    with pytest.raises(htpasswd.PasswordFileError, match=complaint):
        htpasswd.read(str(path))


def test_checkerErrorIsAFailedLogin(tmp_path: Path) -> None:
    """A check that breaks turns the connection away like a wrong password."""
    path = tmp_path / "users"
    htpasswd.write(str(path), dict(HASHES))

    def broken(password: bytes, hashed: bytes) -> Deferred[bool]:
        return fail(RuntimeError("no threads left"))

    checker = PasswordFileChecker(str(path), verify=broken)

    def gatekeeper(clock: Clock, log: Logger) -> Gatekeeper:
        return Gatekeeper(passwordPortal(checker), checker, clock, log)

    fake = FakeRoom(gatekeeper=gatekeeper)
    a, ta = fake.connect()
    a.dataReceived(b"/login alice wonderland\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(ta) == wire.LOGIN_FAILED
    assert any("no threads left" in repr(event) for event in fake.events)


def test_failuresOfManyAddressesAreBounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Addresses whose failures are over a minute old are forgotten."""
    monkeypatch.setattr("chat.auth.KEPT_ADDRESSES", 3)
    fake, _ = authRoom(tmp_path)
    gatekeeper = fake.room.gatekeeper
    assert gatekeeper is not None
    for n in range(3):
        client, _ = fake.connect(f"10.0.0.{n}")
        client.dataReceived(b"/login alice wrong\n")
    fake.clock.advance(61.0)
    client, _ = fake.connect("10.0.0.9")
    client.dataReceived(b"/login alice wrong\n")
    assert list(gatekeeper._failures) == ["10.0.0.9"]
