"""
Nicks that look alike are one nick: the key they share, in one process.
"""

from __future__ import annotations

import pytest

from chat.core import wire
from chat.core.names import nickKey, validNick
from tests.support.fakes import FakeRoom


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (b"alice", b"ALICE"),
        (b"alice", b"aIice"),  # a capital I for the l
        (b"alice", b"a1ice"),
        (b"alice", b"alIce"),  # a capital I for the i
        (b"bob", b"B0B"),
        (b"Olli", b"0111"),
    ],
)
def test_lookAlikesShareAKey(one: bytes, other: bytes) -> None:
    """Case, I l 1 i, and O 0 make no difference to the key."""
    assert nickKey(one) == nickKey(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [(b"alice", b"alise"), (b"bob", b"bop"), (b"a_b", b"a-b"), (b"x", b"xx")],
)
def test_differentNamesHaveDifferentKeys(one: bytes, other: bytes) -> None:
    """Names that do not look alike stay apart."""
    assert nickKey(one) != nickKey(other)


@pytest.mark.parametrize(
    "name", [b"cIient7", b"CL1ENT12", b"client0", b"clientlo", b"SERVER"]
)
def test_lookAlikesOfReservedNamesAreReserved(name: bytes) -> None:
    """What looks like C{client} and digits, or C{server}, is no nick."""
    assert not validNick(name)


@pytest.mark.parametrize("name", [b"client", b"clientX", b"Server2", b"alice"])
def test_namesBesideReservedOnesAreNicks(name: bytes) -> None:
    """Only the look-alikes of the reserved names are refused."""
    assert validNick(name)


def test_lookAlikeNickIsTaken() -> None:
    """
    With alice in the room, C{aIice} (capital I) and C{AL1CE} are taken;
    the client stays as it was, and its next line says so.
    """
    fake = FakeRoom(commands=True)
    a, ta = fake.connect()
    b, tb = fake.connect()
    a.dataReceived(b"/nick alice\n")
    fake.received(ta)
    fake.received(tb)
    b.dataReceived(b"/nick aIice\n/nick AL1CE\nsentinel\n")
    assert fake.received(tb) == wire.nickTaken(b"aIice") + wire.nickTaken(b"AL1CE")
    assert fake.received(ta) == b"client 1: sentinel\n"
    fake.disconnect(a)
    b.dataReceived(b"/nick aIice\n")
    assert b.nick == b"aIice"
