from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.live import Server
from tests.support.livecluster import Cluster, RedisServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = shutil.which("chromium")
"""Debian's chromium, which the browser tests drive: none is downloaded."""


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, driven by Playwright, for the tests of one module."""
    # Imported here: only the browser tests need Playwright.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # Root, as in CI, cannot use chromium's sandbox.
            args=["--no-sandbox"],
        )
        yield launched
        launched.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """
    The folder says which kind a test is: every test in C{tests/live} is
    marked C{live} (it starts processes or opens sockets), none in
    C{tests/unit} is (it runs in memory), so C{pytest tests/unit} is the fast
    subset. A test in the wrong folder stops the run before any test runs.
    """
    misplaced = [
        item.nodeid
        for item in items
        if (item.get_closest_marker("live") is not None)
        != (item.path.parent.name == "live")
    ]
    if misplaced:
        raise pytest.UsageError(
            "tests in the wrong folder (live ones go in tests/live, the others"
            " in tests/unit): " + ", ".join(misplaced)
        )
