"""
Logins (C{--auth}), in memory: the password file, the
exchange before a connection joins, and the attacks on it.
"""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.logger import Logger
from twisted.python.failure import Failure

from chat.core import wire
from chat.people import htpasswd
from chat.people.auth import (
    DECOY_COST,
    FAILURE_DELAY,
    FAILURES_PER_MINUTE,
    Gatekeeper,
    PasswordFileChecker,
    decoyHash,
    passwordPortal,
)
from chat.people.commands import LOGGED_IN, LOGINS_OFF, NAMED_BY_ACCOUNT
from tests.support.authfakes import HASHES, HeldChecks, authRoom, writeUsers
from tests.support.fakes import FakeRoom


def test_loginJoinsTheRoom(tmp_path: Path) -> None:
    """
    A connection joins the room, and is told of and given an id, only once
    it has logged in; its nick is its account's, in lower case, and what it
    sends behind its /login is relayed.
    """
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
    """A name with no account is refused with the answer a wrong password gets."""
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
    """A connection that has not logged in within 30 seconds is told so and closed."""
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


def test_nickRefusedWithLogins(tmp_path: Path) -> None:
    """
    A logged-in client cannot take another account's name (nor any other):
    nobody is told of a rename, its lines keep its account's name, and the
    account's owner gets her name when she logs in.
    """
    fake, _ = authRoom(tmp_path)
    alice, ta = fake.connect()
    alice.dataReceived(b"/login alice wonderland\n")
    bob, tb = fake.connect()
    bob.dataReceived(b"/login bob builder\n")
    fake.received(ta), fake.received(tb)
    bob.dataReceived(b"/nick eve\n/nick EVE\neve: send me your password\n")
    assert fake.received(tb) == NAMED_BY_ACCOUNT * 2
    assert fake.received(ta) == b"bob: eve: send me your password\n"
    eve, te = fake.connect()
    eve.dataReceived(b"/login eve apple\n/who\n")
    assert fake.received(te) == b"server: 3 clients: alice, bob, eve\n"
    assert fake.received(ta) == wire.arrived(2) + b"server: client 2 is now eve\n"


def test_loginIsALoginOnlyWithLogins(tmp_path: Path) -> None:
    """
    Without --auth, C{/login} says logins are off; with it, once in, that
    the client is logged in already.
    """
    fake = FakeRoom(commands=True)
    a, ta = fake.connect()
    fake.received(ta)
    a.dataReceived(b"/login alice wonderland\n")
    assert fake.received(ta) == LOGINS_OFF
    fake, _ = authRoom(tmp_path)
    a, ta = fake.connect()
    a.dataReceived(b"/login alice wonderland\n/login alice wonderland\n")
    assert fake.received(ta) == LOGGED_IN


def test_lookAlikeNamesLogInAsTheAccount(tmp_path: Path) -> None:
    """C{/login aIice} (a capital I) with alice's password is alice."""
    fake, _ = authRoom(tmp_path)
    a, ta = fake.connect()
    a.dataReceived(b"/login aIice wonderland\n")
    b, tb = fake.connect()
    b.dataReceived(b"/login bob builder\n/who\n")
    assert fake.received(tb) == b"server: 2 clients: alice, bob\n"


def test_parallelGuessesAreCountedBeforeTheirChecks(tmp_path: Path) -> None:
    """
    Twenty guesses at once from one address: five are checked, the others,
    the right password last among them, fail without a check; once those
    five have failed, the address stays refused.
    """
    held = HeldChecks()
    fake, _ = authRoom(tmp_path, verify=held)
    guesses = [fake.connect() for _ in range(20)]
    for number, (client, _) in enumerate(guesses[:-1]):
        client.dataReceived(b"/login alice guess%d\n" % number)
    guesses[-1][0].dataReceived(b"/login alice wonderland\n")
    assert len(held.checks) == FAILURES_PER_MINUTE
    fake.clock.advance(FAILURE_DELAY)
    for _, transport in guesses[FAILURES_PER_MINUTE:]:
        assert fake.received(transport) == wire.LOGIN_FAILED
    for _, check in held.checks:
        check.callback(False)
    fake.clock.advance(FAILURE_DELAY)
    for _, transport in guesses[:FAILURES_PER_MINUTE]:
        assert fake.received(transport) == wire.LOGIN_FAILED
    late, transport = fake.connect()
    late.dataReceived(b"/login alice wonderland\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(transport) == wire.LOGIN_FAILED
    assert len(held.checks) == FAILURES_PER_MINUTE
    assert not fake.room.clients
    unchecked = [e for e in fake.events if "not checked" in repr(e)]
    assert len(unchecked) == 16


def test_rightPasswordsInFlightLeaveRoom(tmp_path: Path) -> None:
    """
    Logins being checked count only while they are: once they succeed,
    the address may log in again.
    """
    held = HeldChecks()
    fake, _ = authRoom(tmp_path, verify=held)
    for _ in range(FAILURES_PER_MINUTE):
        client, _ = fake.connect()
        client.dataReceived(b"/login alice wonderland\n")
    for _, check in held.checks:
        check.callback(True)
    client, _ = fake.connect()
    client.dataReceived(b"/login bob builder\n")
    assert len(held.checks) == FAILURES_PER_MINUTE + 1


def test_refusalsWithoutACheckAreNoFailures(tmp_path: Path) -> None:
    """
    Ten right logins at once: five are checked, five refused unchecked;
    the unchecked ones tried no password, so once the five succeed, the
    address may log in again at once.
    """
    held = HeldChecks()
    fake, _ = authRoom(tmp_path, verify=held)
    logins = [fake.connect() for _ in range(2 * FAILURES_PER_MINUTE)]
    for client, _ in logins:
        client.dataReceived(b"/login alice wonderland\n")
    fake.clock.advance(FAILURE_DELAY)
    for _, transport in logins[FAILURES_PER_MINUTE:]:
        assert fake.received(transport) == wire.LOGIN_FAILED
    for _, check in held.checks:
        check.callback(True)
    client, _ = fake.connect()
    client.dataReceived(b"/login bob builder\n")
    assert len(held.checks) == FAILURES_PER_MINUTE + 1


def test_unknownNameCheckedAgainstADecoyOfTheFilesCost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    An unknown name is checked, as a wrong password is, against a hash of
    the cost of the file's (4 here), through the verifier (in a thread in
    the server); nothing is hashed on the caller's thread to make it.
    """

    def noHashingHere(*arguments: object) -> bytes:
        raise AssertionError("hashed on the reactor's thread")

    monkeypatch.setattr(bcrypt, "hashpw", noHashingHere)
    monkeypatch.setattr(bcrypt, "kdf", noHashingHere)
    held = HeldChecks()
    checker = PasswordFileChecker(str(writeUsers(tmp_path)), verify=held)
    checker.requestAvatarId(UsernamePassword(b"mallory", b"wonderland"))
    checker.requestAvatarId(UsernamePassword(b"alice", b"guess"))
    (unknown, _), (wrong, _) = held.checks
    assert htpasswd.cost(unknown) == htpasswd.cost(wrong) == 4


def test_unknownNameNeverLogsIn(tmp_path: Path) -> None:
    """Whatever the decoy's check answers, an unknown name fails."""
    checker = PasswordFileChecker(
        str(writeUsers(tmp_path)), verify=lambda password, hashed: succeed(True)
    )
    checking = checker.requestAvatarId(UsernamePassword(b"mallory", b"x"))
    failures: list[Failure] = []
    checking.addErrback(failures.append)
    assert failures and failures[0].check(UnauthorizedLogin)


@pytest.mark.parametrize(
    ("costs", "cost"),
    [((5, 5, 10), 5), ((10, 5), 10), ((), DECOY_COST), ((31,), 31)],
)
def test_decoyHasTheMostCommonCost(costs: tuple[int, ...], cost: int) -> None:
    """The decoy's cost is the file's most common one (the higher on a tie)."""
    hashes = [b"$2y$%02d$" % each + b"a" * 53 for each in costs]
    decoy = decoyHash(hashes)
    assert htpasswd.cost(decoy) == cost
    assert decoy != decoyHash(hashes)  # a fresh salt each time


def test_decoyMatchesNoPassword() -> None:
    """A real bcrypt check against the decoy answers no, as for a wrong one."""
    decoy = decoyHash([HASHES[b"alice"]])
    assert not bcrypt.checkpw(b"", decoy)
    assert not bcrypt.checkpw(b"wonderland", decoy)


def test_reload(tmp_path: Path) -> None:
    """
    Reloading reads the password file again: a new account can log in; a
    broken file is logged with its line and the accounts read before are
    kept.
    """
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
        (
            b"alice:" + HASHES[b"alice"] + b"\naIice:" + HASHES[b"bob"] + b"\n",
            "line 2: b'aIice' is the same nick as b'alice' of line 1",
        ),
        (b"bob:" + HASHES[b"bob"] + b"\nB0B:" + HASHES[b"bob"] + b"\n", "line 2"),
    ],
)
def test_malformedFile(tmp_path: Path, content: bytes, complaint: str) -> None:
    """
    A password file with a line that is not a name and a bcrypt hash, a name
    that cannot be a nick, or two names of one nick is refused, saying which
    line.
    """
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
    monkeypatch.setattr("chat.people.auth.KEPT_ADDRESSES", 3)
    fake, _ = authRoom(tmp_path)
    # The stage after the one that sends the history or catches up.
    gatekeeper = fake.room.stages[1]
    assert isinstance(gatekeeper, Gatekeeper)
    for n in range(3):
        client, _ = fake.connect(f"10.0.0.{n}")
        client.dataReceived(b"/login alice wrong\n")
    fake.clock.advance(61.0)
    client, _ = fake.connect("10.0.0.9")
    client.dataReceived(b"/login alice wrong\n")
    assert list(gatekeeper._failures) == ["10.0.0.9"]


def test_linesSentWhileTheLoginIsCheckedAreRelayedAfterIt(tmp_path: Path) -> None:
    """
    What a client sends while its password is being checked waits for the
    check, and is relayed, in order, once it has joined the room as its
    account: nothing it sent in the meantime is lost.
    """
    held = HeldChecks()
    fake, _ = authRoom(tmp_path, verify=held)
    a, ta = fake.connect()
    a.dataReceived(b"/login alice wonderland\n")
    held.checks[-1][1].callback(True)
    fake.received(ta)
    b, _ = fake.connect()
    b.dataReceived(b"/login bob builder\n")
    b.dataReceived(b"one\n")
    b.dataReceived(b"two\n")
    held.checks[-1][1].callback(True)
    assert fake.received(ta) == (
        b"server: client 1 just arrived\nserver: client 1 is now bob\n"
        b"bob: one\nbob: two\n"
    )
