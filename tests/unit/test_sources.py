"""
The source a connection is counted under by the limits per address: one
user cannot multiply them with the many addresses one machine or one
network block has.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress

from chat.core import wire
from chat.core.addresses import LOCAL_HOST, sourceOf
from chat.core.limits import Limits
from chat.people.auth import FAILURE_DELAY
from chat.tcp.protocol import ChatProtocol, TurnedAway
from tests.support.authfakes import authRoom
from tests.support.fakes import FakeRoom


@pytest.mark.parametrize(
    ("host", "source"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("127.0.0.1", LOCAL_HOST),
        ("127.8.9.10", LOCAL_HOST),
        ("::1", LOCAL_HOST),
        ("::ffff:127.0.0.1", LOCAL_HOST),
    ],
)
def test_sourceOfAnAddress(host: str, source: str) -> None:
    """Each kind of address is counted under the source its owner has."""
    kind = IPv6Address if ":" in host else IPv4Address
    assert sourceOf(kind("TCP", host, 4242)) == source


def test_unixSocketHasNoSource() -> None:
    """A UNIX socket connection is not counted per address."""
    assert sourceOf(UNIXAddress(b"/run/chat.sock")) is None
    assert sourceOf(None) is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::9"),
        ("192.0.2.7", "::ffff:192.0.2.7"),
        ("127.0.0.1", "::1"),
        ("127.0.0.1", "127.0.0.2"),
    ],
)
def test_oneSourceOneAllowance(first: str, second: str) -> None:
    """
    With --max-per-ip 1, a second connection from another address of the
    same source is turned away; one from another /64 is let in.
    """
    fake = FakeRoom(limits=Limits(maxPerAddress=1))
    fake.connect(first)
    turnedAway = fake.room.door.buildProtocol(fake.transport(second).getPeer())
    assert isinstance(turnedAway, TurnedAway)
    other = fake.room.door.buildProtocol(fake.transport("2001:db8:1:3::1").getPeer())
    assert isinstance(other, ChatProtocol)


def test_guessesFromEveryLoopbackAddressShareOneLimit(tmp_path: Path) -> None:
    """
    Failed logins from 127.0.0.1, ::1, 127.0.0.2 and a mapped 127.0.0.1
    count together: after five, even the right password fails from ::1.
    """
    fake, _ = authRoom(tmp_path)
    hosts = ["127.0.0.1", "::1", "127.0.0.2", "::ffff:127.0.0.1", "127.1.2.3"]
    for host in hosts:
        client, _ = fake.connect(host)
        client.dataReceived(b"/login alice guess\n")
    fake.clock.advance(FAILURE_DELAY)
    client, transport = fake.connect("::1")
    client.dataReceived(b"/login alice wonderland\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(transport) == wire.LOGIN_FAILED


def test_guessesFromOneNetworkBlockShareOneLimit(tmp_path: Path) -> None:
    """
    Failed logins from five addresses of one IPv6 /64 count together, while
    a host of another block still logs in.
    """
    fake, _ = authRoom(tmp_path)
    for n in range(1, 6):
        client, _ = fake.connect(f"2001:db8:1:2::{n}")
        client.dataReceived(b"/login alice guess\n")
    fake.clock.advance(FAILURE_DELAY)
    blocked, blockedOut = fake.connect("2001:db8:1:2::99")
    blocked.dataReceived(b"/login alice wonderland\n")
    fake.clock.advance(FAILURE_DELAY)
    assert fake.received(blockedOut) == wire.LOGIN_FAILED
    other, _ = fake.connect("2001:db8:1:3::1")
    other.dataReceived(b"/login alice wonderland\n")
    assert other in fake.room.clients.values()
