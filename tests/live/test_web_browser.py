"""
The page in a real browser: Debian's C{chromium}, driven by Playwright with
C{executable_path} set to it, so nothing is downloaded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import (
    Browser,
    ViewportSize,
    WebSocketRoute,
    expect,
)

from tests.support.accounts import chatPasswd, login
from tests.support.browser import (
    BROWSER_TESTS,
    DESKTOP,
    PHONE,
    POLL,
    TIMEOUT,
    Tab,
    axeViolations,
)
from tests.support.forwarder import Forwarder
from tests.support.live import Client, StartServer, WebPortServers, waitFor
from tests.support.livecluster import Cluster, Node
from tests.support.webclient import WEB, webPort

pytestmark = BROWSER_TESTS


KEPT_LINES = 10_000
"""The most lines the page's log keeps."""


def test_pageLoadsWithoutErrors(startServer: StartServer, browser: Browser) -> None:
    """
    In a real browser the page connects, shows its own id and itself among
    the people, without any error in the console.
    """
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
    servers = WebPortServers(tmp_path)
    port = servers.port
    first = servers.start()
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
    second = servers.start()
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


def test_loginForm(startServer: StartServer, browser: Browser, tmp_path: Path) -> None:
    """
    With --auth the page asks for a name and password first: a wrong one is
    refused and may be tried again, the right one joins the room as that
    name, which a /nick does not change.  The password is sent as the first
    frame and goes nowhere else.
    """
    users = tmp_path / "users"
    assert chatPasswd(users, "alice", "open sesame").returncode == 0
    assert chatPasswd(users, "bob", "builder").returncode == 0
    server = startServer(*WEB, "--auth", str(users))
    bob = login(server.port, b"bob", b"builder")
    bob.send(b"/who\n")
    bob.expect(b"server: 1 client: bob\n")
    tab = Tab(browser, webPort(server))
    expect(tab.page.locator("#login")).to_be_visible()
    expect(tab.page.locator("#log")).to_be_hidden()
    expect(tab.page.locator("#text")).to_be_disabled()
    expect(tab.page.locator("#state")).to_have_text("not logged in")
    expect(tab.page.locator("#password")).to_have_attribute("type", "password")
    assert tab.sent == []  # no socket before the form is sent

    tab.logIn("alice", "not my password")
    expect(tab.page.locator("#refused")).to_have_text("login failed")
    expect(tab.page.locator("#login")).to_be_visible()
    expect(tab.page.locator("#password")).to_have_value("")
    expect(tab.page.locator("#name")).to_have_value("alice")
    tab.waitForMessages(
        "server: log in with /login NAME PASSWORD", "server: login failed"
    )

    tab.logIn("alice", "open sesame")
    bob.expect(b"server: client 1 just arrived\nserver: client 1 is now alice\n")
    expect(tab.page.locator("#login")).to_be_hidden()
    expect(tab.page.locator("#me")).to_have_text("you are alice")
    tab.expectPeople("bob", "alice (you)")
    expect(tab.page.locator("#refused")).to_have_text("")
    expect(tab.page.locator("#password")).to_have_value("")
    assert [sent[0] for sent in tab.sent] == [
        "/login alice not my password",
        "/login alice open sesame",
    ]
    tab.say("hello bob")
    bob.expect(b"alice: hello bob\n")
    bob.send(b"hello alice\n")
    tab.expectLast("bob: hello alice")
    tab.say("/nick bob")  # refused: the page does not take bob's name
    tab.expectLast("with logins, your name is your account")
    bob.send(b"sentinel\n")
    tab.expectLast("bob: sentinel")
    expect(tab.page.locator("#me")).to_have_text("you are alice")

    waitFor(lambda: "client 1 is now alice" in server.logText(), "the log")
    log = server.logText()
    assert "login failed for alice" in log
    for secret in ("open sesame", "not my password"):
        assert secret not in log
        assert secret not in tab.page.content()
        assert not any(secret in line for line in tab.console)
    assert tab.page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert tab.errors == []


def test_loginAgainAfterRestart(tmp_path: Path, browser: Browser) -> None:
    """The page logs in again by itself when it reconnects."""
    users = tmp_path / "users"
    assert chatPasswd(users, "alice", "open sesame").returncode == 0
    assert chatPasswd(users, "bob", "builder").returncode == 0
    servers = WebPortServers(tmp_path, "--auth", str(users))
    port = servers.port
    first = servers.start()
    try:
        tab = Tab(browser, port)
        tab.logIn("alice", "open sesame")
        expect(tab.page.locator("#me")).to_have_text("you are alice")
        assert first.stop() == 0
    finally:
        first.kill()
    expect(tab.page.locator("#state")).to_contain_text("offline, retrying")
    second = servers.start()
    try:
        expect(tab.page.locator("#state")).to_have_text("connected")
        expect(tab.page.locator("#me")).to_have_text("you are alice")
        expect(tab.page.locator("#login")).to_be_hidden()
        bob = login(second.port, b"bob", b"builder")
        bob.send(b"/who\n")
        bob.expect(b"server: 2 clients: alice, bob\n")
        tab.expectPeople("alice (you)", "bob")
        tab.say("back")
        bob.expect(b"alice: back\n")
        # Sockets opened while no server listened sent nothing.
        logins = [sent[0] for sent in tab.sent if sent]
        assert logins == ["/login alice open sesame"] * 2
        assert "open sesame" not in second.logText()
    finally:
        second.kill()


def test_historyBlock(startServer: StartServer, browser: Browser) -> None:
    """
    With --history what was said before the page came is shown apart, after
    a separator, and the live room after it.
    """
    server = startServer(*WEB, "--history", "10")
    tcp = server.connect()
    tcp.expect(b"server: last 0 lines\nserver: end of history\n")
    other = server.connect()
    other.expect(b"server: last 0 lines\nserver: end of history\n")
    tcp.send(b"one\n<b>two</b>\n")
    said = ["client 0: one", "client 0: <b>two</b>"]
    # Relayed, so in the history before the page comes.
    other.expect(b"client 0: one\nclient 0: <b>two</b>\n")
    tab = Tab(browser, webPort(server))
    tab.waitForMessages(
        "server: you are client 2",
        "server: 3 clients: client 0, client 1, client 2",
        "server: last 2 lines",
        *said,
        "server: end of history",
    )
    tcp.expect(b"server: client 2 just arrived\n")
    tcp.send(b"three\n")
    tab.expectLast("client 0: three")
    assert tab.shown() == [
        "you are client 2",
        "3 clients: client 0, client 1, client 2",
        "earlier messages",
        "client 0: one",
        "client 0: <b>two</b>",
        "now",
        "client 0: three",
    ]
    # Sent as messages, the history's lines have their times too.
    history = tab.page.locator("#log li.history")
    expect(history).to_have_text(
        [re.compile(rf"^\d\d:\d\d {re.escape(line)}$") for line in said]
    )
    expect(tab.page.locator("#log li.divider")).to_have_text(
        ["earlier messages", "now"]
    )
    assert tab.page.locator("#log b").count() == 0
    tab.expectPeople("client 0", "client 1", "client 2 (you)")
    assert tab.errors == []


def test_catchesUpAfterBeingOffline(startServer: StartServer, browser: Browser) -> None:
    """
    In chat mode, a page offline (its socket dropped) while a TCP client
    says 30 numbered lines comes back by itself and shows a marker where it
    reconnected, then each of those lines once, in order, caught up from
    the last message it had: nothing it showed before is shown again.
    """
    server = startServer(*WEB, "--history", "10")
    tcp = server.connect()
    tcp.expect(b"server: last 0 lines\nserver: end of history\n")
    watcher = server.connect()
    watcher.expect(b"server: last 0 lines\nserver: end of history\n")
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 2 just arrived\n")
    watcher.expect(b"server: client 2 just arrived\n")
    tcp.send(b"before\n")
    tab.expectLast("client 0: before")
    before = tab.shown()
    tab.page.context.set_offline(True)
    tab.page.evaluate("socket.close()")
    tcp.expect(b"server: client 2 just left\n")
    missed = b"".join(b"missed %d\n" % n for n in range(30))
    tcp.send(missed)
    # The page came back after the lines, not before.
    watcher.expect(b"client 0: before\nserver: client 2 just left\n")
    watcher.expect(missed.replace(b"missed", b"client 0: missed"))
    tab.page.context.set_offline(False)
    tab.expectLast("client 0: missed 29", timeout=TIMEOUT * 2)
    shown = tab.shown()
    assert shown[: len(before)] == before
    after = shown[len(before) :]
    markers = [line for line in after if line.startswith("reconnected")]
    assert len(markers) == 1
    assert "some messages were missed" not in markers[0]
    lines = [line for line in after if line.startswith("client 0: ")]
    assert lines == [f"client 0: missed {n}" for n in range(30)]
    assert after.index(markers[0]) < after.index("client 0: missed 0")
    caughtUp = [line for line in tab.messages() if "caughtUp" in line]
    assert len(caughtUp) == 1 and '"complete": true' in caughtUp[0]
    # Connections tried while offline fail, and say so; nothing else does.
    assert [e for e in tab.errors if "WebSocket connection" not in e] == []


@pytest.mark.cluster
def test_catchesUpOnAnotherNode(cluster: Cluster, browser: Browser) -> None:
    """
    In chat mode, a page on node A of a cluster, behind a balancer, offline
    while a TCP client on node B says 30 numbered lines, comes back to node
    B by itself: one marker that it reconnected, nothing missed, then each
    of those lines once, in order; nothing it showed before is shown again.
    """
    a, b = cluster.start(2, "--commands", *WEB)
    balancer = Forwarder(webPort(a))
    try:
        tab = Tab(browser, balancer.port)
        expect(tab.page.locator("#me")).to_have_text("you are client 0")
        tcp = Client(b.port)
        cluster.clients.append(tcp)
        tab.expectShown("client 1 just arrived")
        tcp.send(b"before\n")
        tab.expectShown("client 1: before")
        before = tab.shown()
        tab.page.context.set_offline(True)
        tab.page.evaluate("socket.close()")
        balancer.switch(webPort(b))
        tcp.expect(b"server: client 0 just left\n")
        missed = b"".join(b"missed %d\n" % n for n in range(30))
        tcp.send(missed)
        tab.page.context.set_offline(False)
        # Who is here comes from Redis, after the catching up, not before.
        tab.expectLast("2 clients: client 1, client 2", timeout=TIMEOUT * 2)
        b.waitForLog(r"client 2 connected from .* \(web\)")
        shown = tab.shown()
        assert shown[: len(before)] == before
        after = shown[len(before) :]
        markers = [line for line in after if line.startswith("reconnected")]
        assert len(markers) == 1 and "missed" not in markers[0]
        lines = [line for line in after if line.startswith("client 1: ")]
        assert lines == [f"client 1: missed {n}" for n in range(30)]
        caughtUp = [line for line in tab.messages() if "caughtUp" in line]
        assert len(caughtUp) == 1 and '"complete": true' in caughtUp[0]
    finally:
        balancer.close()


def test_missedMarkedAfterARestart(tmp_path: Path, browser: Browser) -> None:
    """
    In chat mode, a page that comes back to a server started again (its
    messages of the former run are gone) is told so: one marker says some
    were missed, and what the new server says is shown after it.
    """
    servers = WebPortServers(tmp_path, "--commands")
    port = servers.port
    first = servers.start()
    try:
        tab = Tab(browser, port)
        expect(tab.page.locator("#state")).to_have_text("connected")
        first.connect().send(b"before the restart\n")
        tab.expectShown("client 1: before the restart")
        assert first.stop() == 0
    finally:
        first.kill()
    expect(tab.page.locator("#state")).to_contain_text("offline, retrying")
    second = servers.start()
    try:
        marker = tab.page.locator("#log li.divider")
        expect(marker).to_have_text(
            re.compile(r"^reconnected, some messages were missed \d\d:\d\d$")
        )
        expect(marker).to_have_count(1)
        caughtUp = [line for line in tab.messages() if "caughtUp" in line]
        assert len(caughtUp) == 1 and '"complete": false' in caughtUp[0]
        tcp = second.connect()
        tcp.send(b"after the restart\n")
        tab.expectShown("client 1: after the restart")
        shown, text = tab.shown(), marker.text_content()
        assert text is not None
        assert shown.index(text) < shown.index("client 1: after the restart")
    finally:
        second.kill()


def test_commands(startServer: StartServer, browser: Browser) -> None:
    """
    With --commands the page's lines are commands when they begin with /:
    a TCP client sees the browser's /nick and /me, the page follows the
    names, and shows what the server answers as notices.
    """
    server = startServer(*WEB, "--commands")
    tcp = server.connect()
    tcp.send(b"/nick bob\n")
    tcp.send(b"/who\n")
    tcp.expect(b"server: 1 client: bob\n")
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 1 just arrived\n")
    tab.waitForMessages(
        "server: you are client 1",
        "server: 2 clients: bob, client 1",
        "server: 2 clients: bob, client 1",  # its own /who, shown instead
    )
    tab.expectPeople("bob", "client 1 (you)")
    tcp.send(b"sentinel\n")
    tab.expectLast("bob: sentinel")
    assert tab.shown() == [
        "you are client 1",
        "2 clients: bob, client 1",
        "bob: sentinel",
    ]

    tab.say("/nick alice")
    tcp.expect(b"server: client 1 is now alice\n")
    expect(tab.page.locator("#me")).to_have_text("you are alice")
    tab.expectPeople("bob", "alice (you)")
    tcp.send(b"sentinel\n")
    tab.expectLast("bob: sentinel")
    assert tab.shown()[-2:] == ["/nick alice", "bob: sentinel"]  # /who not shown

    tab.say("/nick bob")
    tab.expectLast("nick bob is taken")
    tab.say("hello")
    tcp.expect(b"alice: hello\n")
    expect(tab.page.locator("#me")).to_have_text("you are alice")
    tab.expectLast("alice (you): hello")

    tcp.send(b"/nick robert\n")
    tab.expectPeople("robert", "alice (you)")
    tab.expectLast("bob is now robert")
    tab.say("/me waves")
    tcp.expect(b"* alice waves\n")
    tab.expectLast("* alice waves")
    tab.say("//not a command")
    tcp.expect(b"alice: /not a command\n")
    tab.say("/msg robert psst")
    tcp.expect(b"alice (private): psst\n")
    tab.expectLast("to robert (private): psst")
    tcp.send(b"/msg alice hush\n")
    tab.expectLast("robert (private): hush")
    tab.say("/who")
    tab.expectLast("2 clients: robert, alice")
    tab.say("/help")
    tab.expectLast("a line that begins with // is sent with one / removed")
    usage = tab.page.locator("#log li.notice", has_text="/msg NAME TEXT")
    expect(usage).to_have_count(1)

    other = Client(server.port)
    tab.expectPeople("robert", "alice (you)", "client 2")
    other.send(b"/quit\n")
    tab.expectLast("client 2 just left")
    tcp.send(b"/quit bye\n")
    tab.expectLast("robert just left (bye)")
    tab.expectPeople("alice (you)")
    tab.say("/quit")
    expect(tab.page.locator("#state")).to_contain_text("you left")
    assert tab.errors == []


def test_renamedWhileItsOwnWhoIsOnTheWay(
    startServer: StartServer, browser: Browser
) -> None:
    """
    The page learns its new nick from the answer to the /who it sent after
    the /nick, not from the answer to its own /who of the connection that
    was still on the way: that earlier answer is shown as the list of who
    is here, the later one, which names it, is not shown.
    """
    server = startServer(*WEB, "--commands")
    fromPage: list[str] = []
    held: list[str | bytes] = []
    lists = 0

    def route(page: WebSocketRoute) -> None:
        room = page.connect_to_server()

        def toRoom(message: str | bytes) -> None:
            fromPage.append(str(message))
            room.send(message)
            if str(message).startswith("/nick"):
                for frame in held:
                    page.send(frame)
                held.clear()

        def toPage(message: str | bytes) -> None:
            nonlocal lists
            if re.search(r"\d clients?: ", str(message)):
                lists += 1
            if lists > 1 and not any(line.startswith("/nick") for line in fromPage):
                held.append(message)
            else:
                page.send(message)

        page.on_message(toRoom)
        room.on_message(toPage)

    tab = Tab(browser, webPort(server), route=route)
    expect(tab.page.locator("#state")).to_have_text("connected")
    for _ in range(TIMEOUT // POLL):  # its /who is answered, and the answer held
        if held:
            break
        tab.page.wait_for_timeout(POLL)
    assert fromPage == ["/who"]
    tab.say("/nick alice")
    expect(tab.page.locator("#me")).to_have_text("you are alice")
    tab.expectPeople("alice (you)")
    sentinel = Client(server.port)
    sentinel.send(b"sentinel\n")
    tab.expectLast("client 1: sentinel")
    assert fromPage == ["/who", "/nick alice", "/who"]
    shown = [line for line in tab.shown() if re.match(r"\d clients?: ", line)]
    assert shown == ["1 client: client 0"]
    assert tab.errors == []


def test_manyLinesInOrderAndCapped(startServer: StartServer, browser: Browser) -> None:
    """
    Lines sent at once all reach the log, in order, and the log keeps only
    the newest L{KEPT_LINES}: the oldest, the page's own notices first, are
    dropped.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 1 just arrived\n")
    count = KEPT_LINES + 500
    tcp.send(b"".join(b"line %d\n" % number for number in range(count)))
    tab.expectLast(f"client 0: line {count - 1}", timeout=TIMEOUT * 3)
    assert tab.shown() == [f"client 0: line {n}" for n in range(500, count)]
    assert tab.errors == []


def test_wrappedLineHangs(startServer: StartServer, browser: Browser) -> None:
    """
    A line that wraps goes on further right than it began: padded with
    spaces so that its tail starts a row of its own, the tail cannot pass
    for another sender's line.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    tab = Tab(browser, webPort(server), viewport=PHONE)
    tcp.expect(b"server: client 1 just arrived\n")
    tcp.send(b"hi" + b" " * 200 + b"client 7: I am someone else\n")
    tab.expectLast("client 0: hi" + " " * 200 + "client 7: I am someone else")
    start, tail = tab.page.evaluate(
        """() => {
        const line = document.querySelector("#log li:last-child");
        const text = line.lastChild;
        const box = (node, from, to) => {
          const range = document.createRange();
          range.setStart(node, from);
          range.setEnd(node, to);
          const {left, top} = range.getBoundingClientRect();
          return {left, top};
        };
        const at = text.data.indexOf("client 7");
        return [box(line.firstChild.firstChild, 0, 1), box(text, at, at + 1)];
    }"""
    )
    assert tail["top"] > start["top"]  # it wrapped
    assert tail["left"] >= start["left"] + 10


def test_logByKeyboard(startServer: StartServer, browser: Browser) -> None:
    """
    The log is a log for assistive technology, reached with the Tab key,
    and scrolled with the keys once there.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 1 just arrived\n")
    tcp.send(b"".join(b"line %d\n" % number for number in range(200)))
    tab.expectLast("client 0: line 199")
    log = tab.page.locator("#log")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_accessible_name("messages")
    bottom = log.evaluate("log => log.scrollTop")
    assert bottom > 0  # it follows the newest line
    tab.page.evaluate("document.activeElement.blur()")
    for _ in range(10):
        tab.page.keyboard.press("Tab")
        if log.evaluate("log => log === document.activeElement"):
            break
    expect(log).to_be_focused()
    tab.page.keyboard.press("Home")
    expect(log).to_have_js_property("scrollTop", 0)
    tab.page.keyboard.press("End")
    expect(log).to_have_js_property("scrollTop", bottom)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessible(
    startServer: StartServer,
    browser: Browser,
    scheme: Literal["light", "dark"],
    viewport: ViewportSize,
) -> None:
    """
    The page passes axe-core's WCAG 2.1 AA rules, contrast included, in
    either colour scheme, on a desktop and a phone: with every kind of line
    in its log (history, notices, actions, private lines, its own, links,
    times), names in each of their colours, the new-lines button shown and
    many people here.
    """
    server = startServer(*WEB, "--commands", "--history", "10")
    tcp = server.connect()
    tcp.expect(b"server: last 0 lines\nserver: end of history\n")
    tcp.send(b"/nick bob\nsaid before\n/who\n")
    tcp.expect(b"server: 1 client: bob\n")
    others = [Client(server.port) for _ in range(8)]
    tab = Tab(browser, webPort(server), colorScheme=scheme, viewport=viewport)
    expect(tab.page.locator("#state")).to_have_text("connected")
    tab.say("/nick alice")
    expect(tab.page.locator("#me")).to_have_text("you are alice")
    tab.say("/me waves")
    tcp.send(b"/msg alice psst\n")
    tab.expectLast("bob (private): psst")
    for other in others:  # client 1 to client 8, bob, alice: every colour
        other.send(b"hi\n")
    said = tab.page.locator("#log li", has_text=re.compile(r"client \d: hi$"))
    expect(said).to_have_count(len(others))
    tab.say("hello, see https://example.org/")
    tcp.send(b"".join(b"line %d\n" % number for number in range(60)))
    tab.expectLast("bob: line 59")
    tab.page.locator("#log").evaluate("log => { log.scrollTop = 0; }")
    tcp.send(b"below\n")
    tab.expectLast("bob: below")
    expect(tab.page.locator("#more")).to_be_visible()
    assert axeViolations(tab.page) == []
    for other in others:
        other.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_loginAccessible(
    startServer: StartServer,
    browser: Browser,
    tmp_path: Path,
    scheme: Literal["light", "dark"],
) -> None:
    """The login form, with a refusal shown, passes the same rules."""
    users = tmp_path / "users"
    assert chatPasswd(users, "alice", "open sesame").returncode == 0
    server = startServer(*WEB, "--auth", str(users))
    tab = Tab(browser, webPort(server), colorScheme=scheme, viewport=PHONE)
    tab.logIn("alice", "wrong")
    expect(tab.page.locator("#refused")).to_have_text("login failed")
    assert axeViolations(tab.page) == []
