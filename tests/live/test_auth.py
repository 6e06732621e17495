"""
Logins (C{--auth}) with real processes: a password file
written by C{chat-passwd} and one by Apache's C{htpasswd -B}, the log, the
start-up refusals, the file read again on SIGHUP.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chat.core import wire
from chat.people.auth import FAILURE_DELAY, FAILURES_PER_MINUTE
from chat.people.commands import NAMED_BY_ACCOUNT
from tests.support.accounts import chatPasswd, login, prompted
from tests.support.live import DEADLINE, Client, Server, StartServer, run, waitFor
from tests.support.livecluster import Cluster


def secondsToFail(port: int, name: bytes) -> float:
    """How long a wrong login of C{name} takes to be refused."""
    client = prompted(port)
    started = time.monotonic()
    client.send(b"/login " + name + b" wrong\n")
    client.expect(wire.LOGIN_FAILED)
    took = time.monotonic() - started
    client.close()
    return took


def alone(port: int, name: bytes, password: bytes, nick: bytes) -> Client:
    """Log in, alone in the room: /who lists C{nick} alone."""
    client = login(port, name, password)
    client.send(b"/who\n")
    client.expect(b"server: 1 client: " + nick + b"\n")
    return client


@pytest.mark.live
def test_loginWithChatPasswd(startServer: StartServer, tmp_path: Path) -> None:
    """
    Accounts written by C{chat-passwd} log in, a changed password replacing
    the old one; the log tells of the failed login and the nick taken, and
    never holds a password.
    """
    users = tmp_path / "users"
    assert chatPasswd(users, "alice", "open sesame").returncode == 0
    assert chatPasswd(users, "bob", "first").returncode == 0
    assert chatPasswd(users, "bob", "builder").returncode == 0  # changed
    server = startServer("--auth", str(users), "--login-timeout", "20")
    alice = alone(server.port, b"alice", b"open sesame", b"alice")
    bob = login(server.port, b"bob", b"first")
    assert bob.readToEnd() == wire.LOGIN_FAILED
    bob = login(server.port, b"bob", b"builder")
    alice.expect(b"server: client 1 just arrived\nserver: client 1 is now bob\n")
    bob.send(b"hello\n")
    alice.expect(b"bob: hello\n")
    waitFor(lambda: "client 1 is now bob" in server.logText(), "the log")
    log = server.logText()
    assert "[AUTH] login failed for bob from 127.0.0.1" in log
    assert "[STATE] client 1 is now bob" in log
    for secret in ("open sesame", "builder", "first"):
        assert secret not in log


@pytest.mark.live
def test_loginWithApacheHtpasswd(startServer: StartServer, tmp_path: Path) -> None:
    """
    A password file written by Apache's C{htpasswd -B} is read: its account
    logs in, with its name in any case.
    """
    if shutil.which("htpasswd") is None:
        if os.environ.get("CI"):
            pytest.fail("htpasswd (apache2-utils) is missing under CI")
        pytest.skip("htpasswd (Debian's apache2-utils) is not installed")
    users = tmp_path / "users"
    subprocess.run(
        ["htpasswd", "-c", "-b", "-B", "-C", "5", str(users), "carol", "s3cret"],
        check=True,
        capture_output=True,
        timeout=DEADLINE,
    )
    server = startServer("--auth", str(users))
    alone(server.port, b"CAROL", b"s3cret", b"carol")


@pytest.mark.live
def test_reloadOnSighup(startServer: StartServer, tmp_path: Path) -> None:
    """
    On SIGHUP the server reads the password file again, logs how many
    accounts it has, and a new account logs in.
    """
    users = tmp_path / "users"
    chatPasswd(users, "alice", "a")
    server = startServer("--auth", str(users))
    chatPasswd(users, "dave", "d")
    server.process.send_signal(signal.SIGHUP)
    waitFor(lambda: "read 2 users" in server.logText(), "the reload")
    alone(server.port, b"dave", b"d", b"dave")


@pytest.mark.live
def test_startRefusals(tmp_path: Path) -> None:
    """
    The server will not start with a bad password file, naming its line;
    with a plain TCP listener off loopback without C{--auth-plaintext}; or
    with no password file.
    """
    users = tmp_path / "users"
    users.write_text("alice:$2y$05$" + "x" * 53 + "\nbob\n")
    result = run("--port", "0", "--auth", str(users), cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().endswith(f"--auth: {users}, line 2: not name:hash")
    chatPasswd(users.with_name("good"), "alice", "a")
    good = str(users.with_name("good"))
    for arguments in (
        ("--interface", "0.0.0.0"),
        ("--listen", "tcp:0"),
        ("--listen", "tcp:0:interface=192.0.2.1"),
    ):
        result = run("--port", "0", "--auth", good, *arguments, cwd=tmp_path)
        assert result.returncode != 0
        assert "--auth-plaintext" in result.stderr
        assert "Traceback" not in result.stderr
    result = run("--auth", str(tmp_path / "missing"), cwd=tmp_path)
    assert "--auth:" in result.stderr and "No such file" in result.stderr


@pytest.mark.live
def test_chatPasswdRefusals(tmp_path: Path) -> None:
    """
    C{chat-passwd} refuses a name that cannot be a nick and an empty
    password, and leaves a file it cannot read as it was, saying which line.
    """
    users = tmp_path / "users"
    assert "not a nick" in chatPasswd(users, "client4", "x").stderr
    assert "empty password" in chatPasswd(users, "alice", "").stderr
    users.write_text("garbage\n")
    result = chatPasswd(users, "alice", "x")
    assert result.returncode != 0
    assert "line 1" in result.stderr
    assert users.read_text() == "garbage\n"


@pytest.mark.live
def test_bruteForce(startServer: StartServer, tmp_path: Path) -> None:
    """After 5 failed logins from an address, the right password fails too."""
    users = tmp_path / "users"
    chatPasswd(users, "alice", "right")
    server = startServer("--auth", str(users))
    guesses = [login(server.port, b"alice", b"guess%d" % n) for n in range(5)]
    for guess in guesses:
        assert guess.readToEnd() == wire.LOGIN_FAILED
    late = login(server.port, b"alice", b"right")
    assert late.readToEnd() == wire.LOGIN_FAILED
    waitFor(lambda: server.logText().count("login failed for alice") == 6, "the log")


@pytest.mark.live
def test_loginTimeoutAndHalfTyped(startServer: StartServer, tmp_path: Path) -> None:
    """
    A login not sent whole within C{--login-timeout} is told it timed out; a
    connection closed in the middle of its /login leaves no trace in the
    room.
    """
    users = tmp_path / "users"
    chatPasswd(users, "alice", "right")
    hurried = tmp_path / "hurried"
    hurried.mkdir()
    short = Server(hurried, "--auth", str(users), "--login-timeout", "0.5")
    try:
        slow = prompted(short.port)
        slow.send(b"/login alice ri")
        assert slow.readToEnd() == wire.LOGIN_TIMED_OUT
    finally:
        short.kill()
    server = startServer("--auth", str(users))
    alice = alone(server.port, b"alice", b"right", b"alice")
    quitter = prompted(server.port)
    quitter.send(b"/login alice rig")
    quitter.close()
    alice.send(b"/who\n")
    alice.expect(b"server: 1 client: alice\n")
    alice.send(b"/who\n")  # what comes next is the answer: nothing came between
    alice.expect(b"server: 1 client: alice\n")


@pytest.mark.cluster
@pytest.mark.live
def test_loginAcrossNodes(cluster: Cluster, tmp_path: Path) -> None:
    """
    A name logged in on one node is the account's on the other: a login of
    it there is another session of the same person (nobody is told of it,
    a private message reaches both), and nobody else can take it.
    """
    users = tmp_path / "users"
    chatPasswd(users, "alice", "right")
    chatPasswd(users, "bob", "builder")
    one, two = cluster.start(2, "--auth", str(users))
    alice = login(one.port, b"alice", b"right")
    one.waitForLog(r"client 0 is now alice")
    bob = login(two.port, b"bob", b"builder")
    alice.expect(wire.arrived(1) + b"server: client 1 is now bob\n")
    again = login(two.port, b"Alice", b"right")
    again.send(b"/who\n")
    again.expect(b"server: 2 clients: alice, bob\n")
    bob.send(b"/msg alice hi\n")
    alice.expect(b"bob (private): hi\n")
    again.expect(b"bob (private): hi\n")
    bob.send(b"/nick alice\n/who\n")
    bob.expect(NAMED_BY_ACCOUNT + b"server: 2 clients: alice, bob\n")


@pytest.mark.live
def test_parallelGuessesCountedBeforeTheyAreChecked(
    startServer: StartServer, tmp_path: Path
) -> None:
    """
    Twenty guesses sent at once from one address, the right password last:
    five passwords are checked, the other guesses fail unchecked, and the
    right one is not let in.
    """
    users = tmp_path / "users"
    chatPasswd(users, "alice", "right", cost=10)
    server = startServer("--auth", str(users))
    guesses = [prompted(server.port) for _ in range(20)]
    for number, guess in enumerate(guesses[:-1]):
        guess.send(b"/login alice guess%d\n" % number)
    guesses[-1].send(b"/login alice right\n")
    for guess in guesses:
        assert guess.readToEnd() == wire.LOGIN_FAILED
    waitFor(lambda: server.logText().count("login failed for alice") == 20, "the log")
    assert server.logText().count("(too many failures: not checked)") == 20 - (
        FAILURES_PER_MINUTE
    )
    assert "alice logged in" not in server.logText()


@pytest.mark.live
def test_unknownNameTakesAsLongAsAWrongPassword(
    startServer: StartServer, tmp_path: Path
) -> None:
    """
    With hashes of cost 10 in the file (as htpasswd -B -C 10 writes), an
    unknown name is refused as fast as a wrong password, within a factor
    of 2 (the fastest of two each: four failures, one fewer than the limit
    of failures a minute from one source).
    """
    users = tmp_path / "users"
    chatPasswd(users, "alice", "right", cost=10)
    server = startServer("--auth", str(users))
    wrong, unknown = [], []
    for _ in range(2):
        wrong.append(secondsToFail(server.port, b"alice") - FAILURE_DELAY)
        unknown.append(secondsToFail(server.port, b"mallory") - FAILURE_DELAY)
    ratio = min(unknown) / min(wrong)
    assert 0.5 < ratio < 2.0, (wrong, unknown)


@pytest.mark.live
def test_relayGoesOnWhileAnUnknownNameIsChecked(
    startServer: StartServer, tmp_path: Path
) -> None:
    """
    While an unknown name is checked against hashes of cost 13, a line from
    one client reaches another, and the log has it relayed before the check
    failed.  The check began before the line was sent: the login was sent
    with a line before it, whose reminder came back, and both are read at
    once.
    """
    users = tmp_path / "users"
    chatPasswd(users, "alice", "right", cost=13)
    chatPasswd(users, "bob", "builder", cost=13)
    server = startServer("--auth", str(users))
    alice = alone(server.port, b"alice", b"right", b"alice")
    bob = login(server.port, b"bob", b"builder")
    alice.expect(wire.arrived(1) + b"server: client 1 is now bob\n")
    mallory = prompted(server.port)
    mallory.send(b"hello\n/login mallory guess\n")
    mallory.expect(wire.LOGIN_REQUIRED)
    alice.send(b"meanwhile\n")
    bob.expect(b"alice: meanwhile\n")
    assert mallory.readToEnd() == wire.LOGIN_FAILED
    waitFor(lambda: "login failed for mallory" in server.logText(), "the log")
    log = server.logText()
    assert log.index("[RX] [client 0] meanwhile") < log.index(
        "login failed for mallory"
    )


@pytest.mark.live
def test_testerLogsIn(startServer: StartServer, tmp_path: Path) -> None:
    """chat-tester --login passes against --auth; its log hides the password."""
    users = tmp_path / "users"
    chatPasswd(users, "tester", "s3cret")
    server = startServer("--auth", str(users), "--history", "5")
    tester = subprocess.run(
        [str(Path(sys.executable).with_name("chat-tester"))]
        + ["--port", str(server.port), "--clients", "4", "--login", "tester:s3cret"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE * 3,
    )
    assert tester.returncode == 0, tester.stdout + tester.stderr
    log = (tmp_path / "tester.log").read_text()
    assert "/login" in log
    assert "s3cret" not in log
