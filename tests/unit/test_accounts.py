"""
Accounts (C{--auth}), in memory: the login prompt, and the sessions of one
account, which are one person to everyone else.
"""

from __future__ import annotations

from pathlib import Path

from twisted.internet.error import ConnectionLost
from twisted.logger import formatEvent

from chat.core import wire
from chat.core.peers import LocalPeers
from chat.people.auth import FAILURE_DELAY, Verify
from chat.people.commands import NAMED_BY_ACCOUNT
from chat.tcp.protocol import ChatProtocol
from chat.tools.notices import HistorySkipper
from chat.tools.tester import expectedTranscript, lineOf
from tests.support.authfakes import HeldChecks, authRoom, verifyAtOnce
from tests.support.fakes import FakeRoom, RecordingTransport

Connection = tuple[ChatProtocol, RecordingTransport]


def accountsRoom(
    tmp_path: Path, history: int = 0, verify: Verify = verifyAtOnce
) -> FakeRoom:
    """A room with logins: alice, bob and eve have accounts."""
    return authRoom(tmp_path, history, verify)[0]


def logIn(fake: FakeRoom, name: bytes, password: bytes) -> Connection:
    """A connection logged in as C{name}; what it was sent is forgotten."""
    client, transport = fake.connect()
    client.dataReceived(b"/login " + name + b" " + password + b"\n")
    fake.received(transport)
    return client, transport


def aliceTwiceAndBob(fake: FakeRoom) -> tuple[Connection, Connection, Connection]:
    """
    Alice logged in, then bob, then alice again (client 2): all that was
    sent so far forgotten.
    """
    alice = logIn(fake, b"alice", b"wonderland")
    bob = logIn(fake, b"bob", b"builder")
    again = logIn(fake, b"alice", b"wonderland")
    for _, transport in (alice, bob, again):
        fake.received(transport)
    return alice, bob, again


def test_promptAtConnect(tmp_path: Path) -> None:
    """
    With logins, a new connection is told at once how to log in, before it
    sends anything, and only that; a line that is not a login still gets
    the reminder.  Without logins it is told nothing (mini_serv's bytes).
    """
    fake = accountsRoom(tmp_path)
    client, transport = fake.connect()
    assert transport.writes == [wire.LOGIN_PROMPT]
    client.dataReceived(b"hello\n")
    assert fake.received(transport) == wire.LOGIN_REQUIRED
    plain = FakeRoom(commands=True)
    _, first = plain.connect()
    _, second = plain.connect()
    assert plain.received(first) == wire.arrived(1)
    assert plain.received(second) == b""


def test_promptGoesThroughTheSendQueue(tmp_path: Path) -> None:
    """
    The prompt goes through the connection's send queue, like any answer:
    a connection that does not read has it held there, counted.
    """
    fake = accountsRoom(tmp_path)
    client, transport = fake.connect(stalled=True)
    assert client.sendq.size == len(wire.LOGIN_PROMPT)
    transport.stalled = False
    assert transport.value() == wire.LOGIN_PROMPT
    assert client.sendq.size == 0


def test_secondSessionIsTheSamePerson(tmp_path: Path) -> None:
    """
    A second login of alice tells the others nothing; /who lists her once
    and counts people; a line of either session reaches bob and her other
    session as alice's.
    """
    fake = accountsRoom(tmp_path, history=5)
    (alice, ta), (bob, tb) = (
        logIn(fake, b"alice", b"wonderland"),
        logIn(fake, b"bob", b"builder"),
    )
    fake.received(ta)
    again, tc = fake.connect()
    again.dataReceived(b"/login alice wonderland\n")
    # Welcomed as at any login: its history.
    assert fake.received(tc) == wire.historyStart(0) + wire.END_OF_HISTORY
    logged = [formatEvent(event) for event in fake.events]
    assert "client 2 is another session of alice" in logged
    bob.dataReceived(b"/who\n")
    assert fake.received(tb) == b"server: 2 clients: alice, bob\n"
    again.dataReceived(b"from the phone\n")
    assert fake.received(tb) == b"alice: from the phone\n"
    assert fake.received(ta) == b"alice: from the phone\n"
    assert fake.received(tc) == b""
    alice.dataReceived(b"from the laptop\n/me waves\n")
    assert fake.received(tc) == b"alice: from the laptop\n* alice waves\n"
    assert fake.received(tb) == b"alice: from the laptop\n* alice waves\n"
    again.dataReceived(b"/who\n")
    assert fake.received(tc) == b"server: 2 clients: alice, bob\n"


def test_privateMessageReachesEverySession(tmp_path: Path) -> None:
    """C{/msg alice} reaches both of her sessions, and nobody else."""
    fake = accountsRoom(tmp_path)
    (_, ta), (bob, tb), (_, tc) = aliceTwiceAndBob(fake)
    bob.dataReceived(b"/msg ALICE psst\nsentinel\n")
    assert fake.received(ta) == b"bob (private): psst\nbob: sentinel\n"
    assert fake.received(tc) == b"bob (private): psst\nbob: sentinel\n"
    assert fake.received(tb) == b""


def test_leftOnlyWhenTheLastSessionLeaves(tmp_path: Path) -> None:
    """
    One session of alice going leaves her in the room for bob, her name
    hers; when the last goes, bob is told she left, and the name is free.
    """
    fake = accountsRoom(tmp_path)
    (alice, ta), (bob, tb), (again, tc) = aliceTwiceAndBob(fake)
    fake.disconnect(alice)
    again.dataReceived(b"still here\n")
    assert fake.received(tb) == b"alice: still here\n"
    bob.dataReceived(b"/who\n/msg alice one\n")
    # Listed where her first session left now is.
    assert fake.received(tb) == b"server: 2 clients: bob, alice\n"
    assert fake.received(tc) == b"bob (private): one\n"
    fake.disconnect(again)
    assert fake.received(tb) == b"server: alice just left\n"
    bob.dataReceived(b"/who\n/msg alice two\n")
    assert fake.received(tb) == (b"server: 1 client: bob\nserver: no such nick alice\n")


def test_quitOfOneSessionTellsNobody(tmp_path: Path) -> None:
    """
    C{/quit TEXT} from one of alice's sessions closes it alone: she is still
    in the room, so nobody is told she left; her last session's quit says
    it.
    """
    fake = accountsRoom(tmp_path)
    (alice, ta), (bob, tb), (again, tc) = aliceTwiceAndBob(fake)
    alice.dataReceived(b"/quit phone off\nnot sent\n")
    assert ta.disconnecting
    again.dataReceived(b"sentinel\n")
    assert fake.received(tb) == b"alice: sentinel\n"
    assert fake.received(tc) == b""
    again.dataReceived(b"/quit good night\n")
    assert fake.received(tb) == b"server: alice just left (good night)\n"


def test_parallelLoginsOfOneAccount(tmp_path: Path) -> None:
    """
    Two logins of alice checked at the same time and let in in the same
    reactor turn: one arrival, one rename, told once; the second is her
    other session.
    """
    held = HeldChecks()
    fake = accountsRoom(tmp_path, verify=held)
    bob, tb = fake.connect()
    bob.dataReceived(b"/login bob builder\n")
    held.checks.pop()[1].callback(True)
    fake.received(tb)
    one, t1 = fake.connect()
    two, t2 = fake.connect()
    one.dataReceived(b"/login alice wonderland\nfirst\n")
    two.dataReceived(b"/login alice wonderland\nsecond\n")
    for _, check in held.checks:
        check.callback(True)
    assert fake.received(tb) == (
        wire.arrived(1)
        + b"server: client 1 is now alice\nalice: first\nalice: second\n"
    )
    assert fake.received(t1) == b"alice: second\n"
    assert fake.received(t2) == b""  # it came in after the first line
    bob.dataReceived(b"/who\n")
    assert fake.received(tb) == b"server: 2 clients: bob, alice\n"


def test_sessionLeavesWhileTheOtherSends(tmp_path: Path) -> None:
    """
    One session of alice goes in the same reactor turn as the other
    sends: bob has every line, and no leave notice.
    """
    fake = accountsRoom(tmp_path)
    (alice, _), (bob, tb), (again, _) = aliceTwiceAndBob(fake)
    again.dataReceived(b"one\n")
    alice.dataReceived(b"half of a line")
    fake.disconnect(alice, ConnectionLost())
    again.dataReceived(b"two\n")
    assert fake.received(tb) == b"alice: one\nalice: half of a line\nalice: two\n"
    bob.dataReceived(b"/who\n")
    assert fake.received(tb) == b"server: 2 clients: bob, alice\n"


def test_nickFromASession(tmp_path: Path) -> None:
    """
    C{/nick} from alice's second session is refused: both stay alice, bob
    is told nothing, and nobody can take the name from her.
    """
    fake = accountsRoom(tmp_path)
    (_, ta), (bob, tb), (again, tc) = aliceTwiceAndBob(fake)
    again.dataReceived(b"/nick eve\n/nick alice\nstill alice\n")
    assert fake.received(tc) == NAMED_BY_ACCOUNT * 2
    assert fake.received(tb) == b"alice: still alice\n"
    assert fake.received(ta) == b"alice: still alice\n"
    bob.dataReceived(b"/nick alice\n")
    assert fake.received(tb) == NAMED_BY_ACCOUNT


def test_failedLoginForANameInUse(tmp_path: Path) -> None:
    """
    A wrong password for alice while she is in the room: it fails as any,
    she and bob are told nothing, and she stays one person.
    """
    fake = accountsRoom(tmp_path)
    (_, ta), (bob, tb), (_, tc) = aliceTwiceAndBob(fake)
    mallory, tm = fake.connect()
    mallory.dataReceived(b"/login alice guess\nalice: give me your password\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(tm) == wire.LOGIN_FAILED
    assert tm.disconnecting
    bob.dataReceived(b"/who\n")
    assert fake.received(tb) == b"server: 2 clients: alice, bob\n"
    assert fake.received(ta) == fake.received(tc) == b""


def test_lastSessionKilledMidLine(tmp_path: Path) -> None:
    """
    Alice's last session is cut off with half a line sent: bob receives the
    half line as hers, then that she left.
    """
    fake = accountsRoom(tmp_path)
    (alice, _), (_, tb), (again, _) = aliceTwiceAndBob(fake)
    fake.disconnect(alice)
    again.dataReceived(b"half a li")
    fake.disconnect(again, ConnectionLost())
    assert fake.received(tb) == b"alice: half a li\nserver: alice just left\n"


def test_directoryKeepsTheSessions() -> None:
    """
    LocalPeers keeps the sessions of one nick: the first is found, each
    lists all, and the nick is free only when the last has left.
    """
    peers = LocalPeers()
    assert not peers.share(0, b"alice")
    assert peers.claim(0, b"alice").result
    assert peers.share(3, b"ALICE")
    assert peers.sessions(3) == peers.sessions(0) == [0, 3]
    assert peers.sessions(5) == [5]
    assert not peers.claim(5, b"alice").result
    peers.leave(0)
    assert peers.find(b"alice").result == 3
    assert peers.sessions(3) == [3]
    peers.leave(3)
    assert peers.find(b"alice").result is None
    assert peers.claim(5, b"alice").result


def test_toolsSkipThePrompt() -> None:
    """
    The tools see the live room alone: the login prompt is taken away with
    the history block after it, even when both come a byte at a time.
    """
    sent = (
        wire.LOGIN_PROMPT
        + wire.historyStart(1)
        + b"bob: before\n"
        + wire.END_OF_HISTORY
        + b"bob: now\n"
    )
    skipper = HistorySkipper()
    assert b"".join(skipper.feed(sent[at : at + 1]) for at in range(len(sent))) == (
        b"bob: now\n"
    )
    assert HistorySkipper().feed(wire.LOGIN_PROMPT + b"bob: now\n") == b"bob: now\n"


def test_testerExpectsOneAccountsSessions() -> None:
    """
    chat-tester logged in: the others are sessions of the one account, so
    only their lines come, as the account's.
    """
    assert expectedTranscript(0, 3, b"tester") == [
        b"tester: " + lineOf(1) + b"\n",
        b"tester: " + lineOf(2) + b"\n",
    ]
