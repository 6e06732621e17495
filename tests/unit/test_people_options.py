"""
The options of chat mode: --history, --commands, --auth
and what they make.
"""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from twisted.internet.testing import MemoryReactorClock

from chat.app.options import Options
from chat.app.tap import makeService
from chat.people import htpasswd
from chat.people.auth import Gatekeeper
from chat.people.commands import Commands
from chat.people.replay import Replay


def parse(*arguments: str) -> Options:
    options = Options()
    options.parseOptions(["--logfile", "-", *arguments])
    return options


def refusal(*arguments: str) -> str:
    with pytest.raises(SystemExit) as raised:
        parse(*arguments)
    return str(raised.value)


@pytest.fixture
def users(tmp_path: Path) -> str:
    path = str(tmp_path / "users")
    htpasswd.write(path, {b"alice": bcrypt.hashpw(b"pw", bcrypt.gensalt(4))})
    return path


def test_offByDefault() -> None:
    """Without options the room has no stages: no history, no commands, no logins."""
    options = parse()
    room = makeService(options, reactor=MemoryReactorClock()).room
    assert room.stages == []


def test_historyAndCommands() -> None:
    """C{--history} and C{--commands} give the room the replay, then the commands."""
    options = parse("--history", "10000", "--commands")
    room = makeService(options, reactor=MemoryReactorClock()).room
    assert [type(stage) for stage in room.stages] == [Replay, Commands]


@pytest.mark.parametrize("value", ["10001", "-1", "abc", ""])
def test_badHistory(value: str) -> None:
    """
    A C{--history} that is not a number of lines from 0 to 10000 is refused,
    naming the option.
    """
    assert "--history" in refusal("--history", value)


def test_authImpliesCommands(users: str) -> None:
    """
    C{--auth} gives the room the gatekeeper, then the commands, without
    C{--commands}; with a web door, after the stage that catches up the
    clients that read messages.
    """
    options = parse("--auth", users)
    room = makeService(options, reactor=MemoryReactorClock()).room
    assert [type(stage) for stage in room.stages] == [Gatekeeper, Commands]
    options = parse("--auth", users, "--web", "tcp:0")
    room = makeService(options, reactor=MemoryReactorClock()).room
    assert [type(stage) for stage in room.stages] == [Replay, Gatekeeper, Commands]


@pytest.mark.parametrize("chat", [["--commands"], ["--history", "10"]])
def test_messagesOnlyWithAWebDoor(chat: list[str]) -> None:
    """
    The room makes messages of what it delivers, and keeps a record of
    them, only when a door's clients may read them (C{--web}): over TCP
    alone, chat mode relays bytes and makes none.
    """
    tcpOnly = makeService(parse(*chat), reactor=MemoryReactorClock()).room
    assert tcpOnly.messages is None
    withWeb = parse(*chat, "--web", "tcp:0")
    assert makeService(withWeb, reactor=MemoryReactorClock()).room.messages is not None


@pytest.mark.parametrize(
    "arguments",
    [
        ("--interface", "0.0.0.0"),
        ("--interface", "::"),
        ("--interface", "192.0.2.7"),
        ("--listen", "tcp:0"),
        ("--listen", "tcp6:0:interface=\\:\\:"),
        ("--listen", "tcp:0:interface=10.0.0.1"),
    ],
)
def test_authRefusesPlainTcpOnTheNetwork(users: str, arguments: tuple[str]) -> None:
    """
    C{--auth} on a plain TCP listener off loopback is refused unless
    C{--auth-plaintext} says passwords may cross the network in clear.
    """
    assert "--auth-plaintext" in refusal("--auth", users, *arguments)
    parse("--auth", users, "--auth-plaintext", *arguments)


@pytest.mark.parametrize(
    "arguments",
    [
        (),
        ("--interface", "::1"),
        ("--listen", "tcp:0:interface=127.0.0.2"),
        ("--listen", "unix:chat.sock"),
    ],
)
def test_authAcceptsPrivateListeners(users: str, arguments: tuple[str]) -> None:
    """
    C{--auth} on loopback, by default or given, or on a Unix socket needs no
    C{--auth-plaintext}.
    """
    parse("--auth", users, *arguments)


def test_authFileErrors(users: str, tmp_path: Path) -> None:
    """
    A missing password file, or one with a bad line, is refused at start,
    naming the file and the line.
    """
    assert "No such file" in refusal("--auth", str(tmp_path / "missing"))
    Path(users).write_bytes(b"alice:$2y$04$" + b"x" * 53 + b"\nbob:plain\n")
    assert refusal("--auth", users).endswith(
        f"--auth: {users}, line 2: not a bcrypt hash (htpasswd -B)"
    )


def test_badLoginTimeout(users: str) -> None:
    """A C{--login-timeout} that is not a number is refused, naming the option."""
    assert "--login-timeout" in refusal("--auth", users, "--login-timeout", "x")


@pytest.mark.parametrize("arguments", [("--login-timeout", "5"), ("--auth-plaintext",)])
def test_authOptionsWithoutAuth(users: str, arguments: tuple[str, ...]) -> None:
    """Without C{--auth} they would do nothing: one line says so; with it, taken."""
    assert refusal(*arguments) == (
        f"twistd chat: error: {arguments[0]}: has no effect without --auth"
    )
    parse("--auth", users, *arguments)


def test_loginTimeout(users: str) -> None:
    """C{--login-timeout} is taken in seconds, 30 unless given."""
    assert parse("--auth", users)["login-timeout"] == 30.0
    assert parse("--auth", users, "--login-timeout", "2.5")["login-timeout"] == 2.5
