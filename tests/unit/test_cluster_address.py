"""
C{--redis redis://HOST:PORT/DB}: what is a Redis address, and the one line
that says what is not.
"""

from __future__ import annotations

import pytest

from chat.app.options import Options
from chat.cluster.address import RedisAddress


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6380/2", ("127.0.0.1", 6380, 2)),
        ("redis://localhost", ("localhost", 6379, 0)),
        ("redis://localhost:/", ("localhost", 6379, 0)),
        ("redis://[::1]:7000/", ("::1", 7000, 0)),
        ("redis://[::1]/3", ("::1", 6379, 3)),
        ("redis://h:65535/0", ("h", 65535, 0)),
    ],
)
def test_redisAddress(url: str, address: tuple[str, int, int]) -> None:
    """
    A Redis URL gives its host (an IPv6 one without brackets), port and
    database; a port or database left out is 6379 or 0.
    """
    parsed = RedisAddress.parse(url)
    assert (parsed.host, parsed.port, parsed.db) == address


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://x", "not a redis://HOST:PORT/DB URL"),
        ("redis://", "not a redis://HOST:PORT/DB URL"),
        ("redis://h:0/0", "port '0' is not a port number (1-65535)"),
        ("redis://h:65536", "port '65536' is not a port number (1-65535)"),
        ("redis://h:99999", "port '99999' is not a port number (1-65535)"),
        ("redis://h:x/0", "port 'x' is not a port number (1-65535)"),
        ("redis://h:\u00b2/0", "port '\u00b2' is not a port number (1-65535)"),
        ("redis://h/x", "database 'x' is not a number"),
        ("redis://h/\u00b2", "database '\u00b2' is not a number"),
        ("redis://u:p@h", "only redis://HOST:PORT/DB is supported"),
    ],
)
def test_badRedisAddress(url: str, reason: str) -> None:
    """
    What is not a Redis address is refused with one line that says what is
    wrong with it.
    """
    with pytest.raises(ValueError) as raised:
        RedisAddress.parse(url)
    assert str(raised.value) == reason


def test_portZeroRefusedOnTheCommandLine() -> None:
    """Port 0 would silently have meant 6379."""
    with pytest.raises(SystemExit) as exited:
        Options().parseOptions(["--redis", "redis://127.0.0.1:0/0"])
    assert str(exited.value) == (
        "twistd chat: error: --redis: 'redis://127.0.0.1:0/0':"
        " port '0' is not a port number (1-65535)"
    )


def test_addressWrittenOutInFull() -> None:
    """
    An address is written out whole, default port and database included, an
    IPv6 host in brackets.
    """
    assert str(RedisAddress.parse("redis://[::1]")) == "redis://[::1]:6379/0"
