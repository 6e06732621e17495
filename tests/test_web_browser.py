"""
The page in a real browser: Debian's C{chromium}, driven by Playwright with
C{executable_path} set to it, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.live import Client, Server, StartServer, freePort
from tests.livecluster import Cluster, Node
from tests.webclient import WEB, webPort

CHROMIUM = shutil.which("chromium")

pytestmark = [pytest.mark.live, pytest.mark.browser]

if CHROMIUM is None:  # pragma: no cover (depends on the machine)
    missing = (
        "chromium is not installed; the browser tests need it"
        " (Debian, Ubuntu: apt-get install chromium)"
    )
    if os.environ.get("CI") == "true":
        raise AssertionError(missing)
    pytestmark.append(pytest.mark.skip(reason=missing))

TIMEOUT = 20_000
"""Milliseconds any wait in the browser may take."""

POLL = 20
"""Milliseconds between two looks at what the page received."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # Root, as in CI, cannot use chromium's sandbox.
            args=["--no-sandbox"],
        )
        yield launched
        launched.close()


class Tab:
    """
    The page in a tab of its own, with the text frames it received and the
    errors it met.
    """

    def __init__(self, browser: Browser, port: int) -> None:
        self.page: Page = browser.new_page()
        self.page.set_default_timeout(TIMEOUT)
        self.frames: list[str] = []
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(message.text) if message.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "websocket",
            lambda socket: socket.on("framereceived", self._received),
        )
        self.page.goto(f"http://127.0.0.1:{port}/")

    def _received(self, payload: str | bytes) -> None:
        self.frames.append(payload if isinstance(payload, str) else repr(payload))

    def waitForFrames(self, *expected: str) -> None:
        """
        The next frames the page receives are exactly C{expected}: polled,
        as Playwright delivers events while it waits.
        """
        for _ in range(TIMEOUT // POLL):
            if len(self.frames) >= len(expected):
                break
            self.page.wait_for_timeout(POLL)
        got = self.frames[: len(expected)]
        del self.frames[: len(expected)]
        assert got == list(expected)

    def say(self, text: str) -> None:
        self.page.fill("#text", text)
        self.page.press("#text", "Enter")

    def expectLast(self, text: str) -> None:
        expect(self.page.locator("#log li").last).to_have_text(text)

    def expectPeople(self, *names: str) -> None:
        expect(self.page.locator("#people li")).to_have_text(list(names))


def test_pageLoadsWithoutErrors(startServer: StartServer, browser: Browser) -> None:
    server = startServer(*WEB)
    tab = Tab(browser, webPort(server))
    expect(tab.page.locator("#state")).to_have_text("connected")
    expect(tab.page.locator("#me")).to_have_text("you are client 0")
    tab.expectPeople("client 0 (you)")
    assert tab.errors == []


def test_browserAndSocketChat(startServer: StartServer, browser: Browser) -> None:
    """
    A browser and a raw socket chat both ways; the socket sees the browser
    exactly as another socket, the browser gets every line as a frame.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 1 just arrived\n")
    tab.waitForFrames(
        "server: you are client 1", "server: 2 clients: client 0, client 1"
    )
    tab.expectPeople("client 0", "client 1 (you)")
    tab.say("hello from chromium ✓")
    tcp.expect("client 1: hello from chromium ✓\n".encode())
    tcp.send(b"hello from a socket\n")
    tab.waitForFrames("client 0: hello from a socket")
    tab.expectLast("client 0: hello from a socket")
    other = Client(server.port)
    tcp.expect(b"server: client 2 just arrived\n")
    tab.waitForFrames("server: client 2 just arrived")
    tab.expectPeople("client 0", "client 1 (you)", "client 2")
    other.close()
    tcp.expect(b"server: client 2 just left\n")
    tab.waitForFrames("server: client 2 just left")
    tab.page.close()
    tcp.expect(b"server: client 1 just left\n")
    assert tab.errors == []


def test_markupShownAsText(startServer: StartServer, browser: Browser) -> None:
    """A line of HTML is shown as its text; nothing in it runs."""
    server = startServer(*WEB)
    tcp = server.connect()
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 1 just arrived\n")
    attack = "<img src=x onerror=\"document.title='pwned'\"><b>bold</b>"
    tcp.send(attack.encode() + b"\n")
    tab.expectLast(f"client 0: {attack}")
    assert tab.page.locator("#log img, #log b").count() == 0
    assert tab.page.title() == "chat"
    tcp.send(b"sentinel\n")
    tab.expectLast("client 0: sentinel")
    assert tab.page.title() == "chat"


def test_reconnectsAfterRestart(tmp_path: Path, browser: Browser) -> None:
    """
    The page shows the server going, and comes back by itself once a new
    server listens on the same port.
    """
    port = freePort()
    web = ("--web", f"tcp:{port}:interface=127.0.0.1")
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = Server(tmp_path / "first", *web)
    try:
        tab = Tab(browser, port)
        expect(tab.page.locator("#state")).to_have_text("connected")
        first.clients.append(Client(first.port))
        tab.expectLast("client 1 just arrived")
        assert first.stop() == 0
    finally:
        first.kill()
    tab.expectLast("shutting down")
    expect(tab.page.locator("#state")).to_contain_text("offline, retrying")
    second = Server(tmp_path / "second", *web)
    try:
        expect(tab.page.locator("#state")).to_have_text("connected")
        expect(tab.page.locator("#me")).to_have_text("you are client 0")
        tcp = second.connect()
        tab.expectLast("client 1 just arrived")
        tab.say("back")
        tcp.expect(b"client 0: back\n")
    finally:
        second.kill()


@pytest.mark.cluster
def test_clusterTwoBrowsersAndASocket(cluster: Cluster, browser: Browser) -> None:
    """
    A browser on node A, a browser and a socket on node B: everyone hears
    everyone.
    """
    nodes = [Node(cluster.directory / name, cluster.redis, *WEB) for name in ("a", "b")]
    cluster.nodes.extend(nodes)
    for node in nodes:
        node.waitForLog(r"\[cluster\] joined the cluster")
    first = Tab(browser, webPort(nodes[0]))
    expect(first.page.locator("#me")).to_have_text("you are client 0")
    second = Tab(browser, webPort(nodes[1]))
    expect(second.page.locator("#me")).to_have_text("you are client 1")
    first.expectLast("client 1 just arrived")
    tcp = Client(nodes[1].port)
    cluster.clients.append(tcp)
    first.expectLast("client 2 just arrived")
    second.expectLast("client 2 just arrived")
    first.say("from A")
    tcp.expect(b"client 0: from A\n")
    second.expectLast("client 0: from A")
    second.say("from B")
    tcp.expect(b"client 1: from B\n")
    first.expectLast("client 1: from B")
    tcp.send(b"from the socket\n")
    first.expectLast("client 2: from the socket")
    second.expectLast("client 2: from the socket")
    first.expectPeople("client 0 (you)", "client 1", "client 2")
