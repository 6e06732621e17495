"""
Connections to Redis (L{chat.cluster.link}) against a real redis-server that
refuses (a password, a database past its count) and against servers that
are not Redis: the reason is reported, nothing crashes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_twisted  # type: ignore[import-untyped]
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.logger import ILogObserver, LogEvent, LogLevel, globalLogPublisher

from chat.cluster.address import RedisAddress
from chat.cluster.link import RedisLink
from tests.support.live import DEADLINE
from tests.support.livecluster import RedisServer

pytestmark = [pytest.mark.cluster, pytest.mark.live]


async def firstWord(url: str) -> str:
    """C{up}, or C{refused: REASON}: what a link to C{url} says first."""
    heard: Deferred[str] = Deferred()

    def say(word: str) -> None:
        if not heard.called:
            heard.callback(word)

    link = RedisLink(reactor, RedisAddress.parse(url))
    link.start(lambda: say("up"), lambda: None, lambda why: say(f"refused: {why}"))
    heard.addTimeout(DEADLINE, reactor)
    try:
        return await heard
    finally:
        await link.stop()


@pytest.fixture
def critical() -> Iterator[list[LogEvent]]:
    """Errors logged anywhere in the process (an unhandled one, a traceback)."""
    events: list[LogEvent] = []

    def observe(event: LogEvent) -> None:
        if event.get("log_level", LogLevel.info) >= LogLevel.error:
            events.append(event)

    observer = cast(ILogObserver, observe)
    globalLogPublisher.addObserver(observer)
    yield events
    globalLogPublisher.removeObserver(observer)


@pytest_twisted.ensureDeferred
async def test_accepted(tmp_path: Path) -> None:
    """A link to a Redis that lets it in says it is up."""
    redis = RedisServer(tmp_path)
    try:
        assert await firstWord(f"redis://127.0.0.1:{redis.port}/15") == "up"
    finally:
        redis.kill()


@pytest_twisted.ensureDeferred
async def test_passwordNeeded(tmp_path: Path) -> None:
    """
    A Redis that needs a password refuses the link, and the link gives
    Redis's reason.
    """
    redis = RedisServer(tmp_path, "--requirepass", "secret")
    try:
        word = await firstWord(redis.url)
    finally:
        redis.kill()
    assert word == "refused: NOAUTH Authentication required."


@pytest_twisted.ensureDeferred
async def test_noSuchDatabase(tmp_path: Path) -> None:
    """
    A Redis without the database asked for refuses the link, and the link
    gives Redis's reason.
    """
    redis = RedisServer(tmp_path, "--databases", "16")
    try:
        word = await firstWord(f"redis://127.0.0.1:{redis.port}/99")
    finally:
        redis.kill()
    assert word == "refused: ERR DB index is out of range"


class _Says(Protocol):
    """Answers whatever it is sent with C{answer}, or echoes it."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer

    def dataReceived(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data if self.answer is None else self.answer)


class _NotRedis(ServerFactory):
    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer

    def buildProtocol(self, addr: IAddress | None) -> _Says:
        return _Says(self.answer)


@pytest.mark.parametrize(
    ("answer", "word"),
    [
        (
            b"HTTP/1.0 400 Bad Request\r\n\r\n",
            'refused: not a Redis server (Protocol error, got "H" as reply type byte)',
        ),
        (
            None,
            "refused: not a Redis server (it answered [b'SELECT', b'0'] to SELECT)",
        ),
    ],
    ids=["http", "echo"],
)
@pytest_twisted.ensureDeferred
async def test_notRedis(answer: bytes | None, word: str, critical: list[Any]) -> None:
    """
    A server that is not Redis (one that answers HTTP, one that echoes) is
    refused as not a Redis server, saying what it answered, and nothing is
    logged as an error.
    """
    listening = reactor.listenTCP(0, _NotRedis(answer), interface="127.0.0.1")
    port = cast(IPv4Address, listening.getHost()).port
    try:
        heard = await firstWord(f"redis://127.0.0.1:{port}/0")
    finally:
        await maybeDeferred(listening.stopListening)
    assert heard == word
    assert critical == []
