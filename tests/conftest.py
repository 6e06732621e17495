from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.live import Server
from tests.livecluster import Cluster, RedisServer


@pytest.fixture
def startServer(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start C{twistd -n chat --port 0 ARGUMENTS}; killed after the test."""
    started: list[Server] = []

    def start(*arguments: str, openFiles: int | None = None) -> Server:
        server = Server(tmp_path, *arguments, openFiles=openFiles)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A Redis server of its own and no node yet; all stopped after the test."""
    redis = RedisServer(tmp_path / "redis")
    nodes = Cluster(tmp_path, redis)
    yield nodes
    nodes.stop()
    redis.kill()
