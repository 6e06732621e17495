"""
The cluster peers against a real redis-server, with fake rooms: two nodes
talk through the stream, and the stream stays within its bounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_twisted  # type: ignore[import-untyped]
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.logger import Logger

from chat.cluster.address import RedisAddress
from chat.cluster.commands import Retention
from chat.cluster.link import RedisLink
from chat.cluster.peers import ClusterPeers
from chat.core import wire
from tests.support.clusterfakes import FakeRoom
from tests.support.live import DEADLINE
from tests.support.livecluster import RedisServer

pytestmark = [pytest.mark.cluster, pytest.mark.live]


async def until(condition: Callable[[], object], what: str) -> None:
    """Let the reactor run until C{condition} holds."""
    end = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await deferLater(reactor, 0.01)


class Node:
    """Cluster peers on real connections, and their fake room."""

    def __init__(self, redis: RedisServer, retention: Retention) -> None:
        address = RedisAddress.parse(redis.url)
        self.room = FakeRoom()
        self.peers = ClusterPeers(
            "main",
            RedisLink(reactor, address),
            RedisLink(reactor, address),
            reactor,
            Logger(),
            retention=retention,
        )
        self.peers.attach(self.room)
        self.peers.start()

    def received(self) -> bytes:
        return b"".join(self.room.delivered)


async def nodes(redis: RedisServer, count: int, retention: Retention) -> list[Node]:
    started = [Node(redis, retention) for _ in range(count)]
    await until(lambda: all(node.peers.accepting for node in started), "joined")
    return started


@pytest_twisted.ensureDeferred
async def test_twoNodesTalk(tmp_path: Path) -> None:
    """
    Two nodes through a real Redis: each newcomer gets the next id, one node
    hears of the other's arrivals, lines and, once it stops, departures.
    """
    redis = RedisServer(tmp_path)
    try:
        a, b = await nodes(redis, 2, Retention())
        assert await a.peers.join() == 0
        assert await b.peers.join() == 1
        await until(lambda: a.received() == wire.arrived(1), "a to see 1 arrive")
        a.room.ids = [0]
        a.peers.publish(b"client 0: hello\n")
        await until(lambda: b.received().endswith(b"client 0: hello\n"), "hello")
        await a.peers.stop()
        await until(lambda: b.received().endswith(wire.left(0)), "0 to leave")
        assert b.received() == wire.arrived(0) + b"client 0: hello\n" + wire.left(0)
        await b.peers.stop()
    finally:
        redis.kill()


@pytest_twisted.ensureDeferred
async def test_streamKeepsAtMostItsBytes(tmp_path: Path) -> None:
    """
    8 MiB sent in 64 KiB entries; the stream keeps 1 MiB of them, and Redis
    never holds much more: each entry is acknowledged before the next is
    sent, so what Redis holds is the stream, not commands waiting to be read.
    """
    redis = RedisServer(tmp_path)
    try:
        before = int(redis.cli("MEMORY", "STATS").split("\n")[1])
        (node,) = await nodes(redis, 1, Retention(size=1 << 20))
        chunk = b"client 0: " + b"x" * (64 << 10) + b"\n"
        for _ in range(128):
            node.peers.publish(chunk)
            await deferLater(reactor, 0)
            await until(lambda: node.peers.queuedBytes == 0, "the entry in Redis")
        await node.peers.stop()
        entries = int(redis.cli("XLEN", "chat:main:stream"))
        kept = int(redis.cli("GET", "chat:main:bytes"))
        assert kept <= 1 << 20
        assert entries * len(chunk) <= 1 << 20 or entries <= 16
        assert int(redis.cli("LLEN", "chat:main:sizes")) == entries
        peak = int(redis.cli("MEMORY", "STATS").split("\n")[1])
        assert peak - before < 4 << 20
    finally:
        redis.kill()


@pytest_twisted.ensureDeferred
async def test_streamKeepsOnlyItsWindow(tmp_path: Path) -> None:
    """Every append drops the entries older than the window, by Redis time."""
    redis = RedisServer(tmp_path)
    try:
        (node,) = await nodes(redis, 1, Retention(seconds=0.2))
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            node.peers.publish(b"client 0: tick\n")
            await deferLater(reactor, 0.02)
        await node.peers.stop()
        first = redis.cli("XRANGE", "chat:main:stream", "-", "+", "COUNT", "1")
        last = redis.cli("XREVRANGE", "chat:main:stream", "+", "-", "COUNT", "1")
        span = int(last.split("-")[0]) - int(first.split("-")[0])
        assert span <= 200
        assert int(redis.cli("XLEN", "chat:main:stream")) < 40
    finally:
        redis.kill()


@pytest_twisted.ensureDeferred
async def test_idsStayAboveWhatANodeSawWhenRedisLosesThem(tmp_path: Path) -> None:
    """
    Redis loses every key: the join script numbers the next client above
    the ids its node had seen, and moves the counter there, so that a node
    that had seen none goes on from there as well.
    """
    redis = RedisServer(tmp_path)
    try:
        (a,) = await nodes(redis, 1, Retention())
        assert [await a.peers.join() for _ in range(3)] == [0, 1, 2]
        redis.cli("FLUSHALL")
        assert await a.peers.join() == 3
        (b,) = await nodes(redis, 1, Retention())
        assert await b.peers.join() == 4
        assert redis.cli("GET", "chat:main:ids") == "5"
        await a.peers.stop()
        await b.peers.stop()
    finally:
        redis.kill()


@pytest_twisted.ensureDeferred
async def test_messageIdsOfTheWholeRoom(tmp_path: Path) -> None:
    """
    The stream numbers the lines of every entry for everyone, one id a
    line, in its order, for every node alike (each node is given its own
    entries' numbers too), with who said them; after Redis loses every
    key the ids go on increasing.
    """
    redis = RedisServer(tmp_path)
    try:
        a, b = await nodes(redis, 2, Retention())
        a.peers.publish(b"client 0: one\nclient 0: two\n", 0)
        await until(lambda: len(b.room.numbered) == 1, "b to number a's lines")
        b.peers.publish(b"client 1: three\n", 1)
        await until(lambda: len(a.room.numbered) == 2, "a to number both")
        assert a.room.numbered == b.room.numbered
        (one, first), (three, second) = a.room.numbered
        assert (one, three) == (b"client 0: one\nclient 0: two\n", b"client 1: three\n")
        assert (first.origins, second.origins) == ([(0, 2)], [(1, 1)])
        assert second.previous == first.first + 1 < second.first
        redis.cli("FLUSHALL")
        a.peers.publish(b"client 0: four\n", 0)
        await until(lambda: len(b.room.numbered) == 3, "b to number four")
        after = b.room.numbered[-1][1]
        # Redis had no last id: none before is taken for one it has.
        assert after.previous == after.first - 1 and after.first > second.first
        await a.peers.stop()
        await b.peers.stop()
    finally:
        redis.kill()
