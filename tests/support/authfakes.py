"""
A room with logins, in memory.
"""

from __future__ import annotations

from pathlib import Path

import bcrypt
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.logger import Logger

from chat.people import htpasswd
from chat.people.auth import (
    Gatekeeper,
    PasswordFileChecker,
    Verify,
    passwordPortal,
)
from tests.support.fakes import FakeRoom

HASHES = {
    b"alice": bcrypt.hashpw(b"wonderland", bcrypt.gensalt(4)),
    b"bob": bcrypt.hashpw(b"builder", bcrypt.gensalt(4)),
    b"eve": bcrypt.hashpw(b"apple", bcrypt.gensalt(4)),
}
"""Three accounts and their passwords, hashed at the lowest bcrypt cost."""


def verifyAtOnce(password: bytes, hashed: bytes) -> Deferred[bool]:
    """Check C{password} against C{hashed} at once, not in a thread."""
    return succeed(bcrypt.checkpw(password, hashed))


def writeUsers(tmp_path: Path) -> Path:
    """Write L{HASHES} to a password file in C{tmp_path}; return its path."""
    path = tmp_path / "users"
    htpasswd.write(str(path), dict(HASHES))
    return path


def authRoom(
    tmp_path: Path, history: int = 0, verify: Verify = verifyAtOnce
) -> tuple[FakeRoom, PasswordFileChecker]:
    """
    A fake room whose newcomers log in against L{HASHES}, keeping
    C{history} lines; and the password file's checker.
    """
    checker = PasswordFileChecker(str(writeUsers(tmp_path)), verify=verify)

    def gatekeeper(clock: Clock, log: Logger) -> Gatekeeper:
        return Gatekeeper(passwordPortal(checker), checker, clock, log, timeout=30.0)

    return FakeRoom(gatekeeper=gatekeeper, history=history), checker


class HeldChecks:
    """
    A verifier whose checks wait for the test to end them: the hash each
    was asked to check against, and the check.
    """

    def __init__(self) -> None:
        self.checks: list[tuple[bytes, Deferred[bool]]] = []

    def __call__(self, password: bytes, hashed: bytes) -> Deferred[bool]:
        check: Deferred[bool] = Deferred()
        self.checks.append((hashed, check))
        return check
