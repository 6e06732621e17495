"""
What the page shows beyond the room's lines, in a real browser: names in
colours of their own, links, times, an unread count in the tab's title, the
connection's countdown and return, the account's name in the header.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.accounts import chatPasswd
from tests.support.browser import BROWSER_TESTS, TIMEOUT, Tab, axeViolations
from tests.support.live import Client, StartServer, WebPortServers
from tests.support.webclient import WEB, webPort

pytestmark = BROWSER_TESTS

NAME_COLOURS = 8
"""How many colours the page gives names; C{client 0} to C{client 7} have
one each."""

CONTRAST_AA = 4.5
"""The least contrast WCAG 2.1 AA allows text of the log's size."""

COLOURS = """(selector) => [...document.querySelectorAll(selector)].map(
  (element) => [element.textContent, getComputedStyle(element).color])"""
"""Each element's text and colour."""


def luminance(colour: str) -> float:
    """The relative luminance (WCAG) of a computed C{rgb(R, G, B)}."""
    found = re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", colour)
    assert found is not None, colour
    linear = [
        value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
        for value in (int(part) / 255 for part in found.groups())
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted([luminance(one), luminance(other)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def sendersColours(page: Page) -> dict[str, str]:
    """The colour of each sender's name in the log."""
    found: list[list[str]] = page.evaluate(COLOURS, "#log .from")
    colours: dict[str, str] = {}
    for text, colour in found:
        assert colours.setdefault(text, colour) == colour, text
    return colours


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_namesInColoursOfTheirOwn(
    startServer: StartServer, browser: Browser, scheme: Literal["light", "dark"]
) -> None:
    """
    Each sender's name has a colour of its own, the same on every line, in
    the list of who is here and in another tab; the names of eight senders
    take every colour, and each reads against the background (WCAG AA), in
    either colour scheme, as axe-core finds too.
    """
    server = startServer(*WEB)
    clients = [server.connect() for _ in range(NAME_COLOURS)]
    tab = Tab(browser, webPort(server), colorScheme=scheme)
    clients[0].expect(b"server: client 8 just arrived\n")
    for client in clients:
        client.send(b"hello\nagain\n")
    expect(tab.page.locator("#log .from")).to_have_count(2 * NAME_COLOURS)
    colours = sendersColours(tab.page)
    assert sorted(colours) == [f"client {n}: " for n in range(NAME_COLOURS)]
    assert len(set(colours.values())) == NAME_COLOURS
    background = tab.page.evaluate("getComputedStyle(document.body).backgroundColor")
    for colour in colours.values():
        assert contrast(colour, background) >= CONTRAST_AA, colour
    listed = dict(tab.page.evaluate(COLOURS, "#people li"))
    for n in range(NAME_COLOURS):
        assert listed[f"client {n}"] == colours[f"client {n}: "]
    assert axeViolations(tab.page) == []

    other = Tab(browser, webPort(server), colorScheme=scheme)
    expect(other.page.locator("#state")).to_have_text("connected")
    for client in reversed(clients):
        client.send(b"once more\n")
    expect(other.page.locator("#log .from")).to_have_count(NAME_COLOURS)
    assert sendersColours(other.page) == colours


def test_linksAreLinks(startServer: StartServer, browser: Browser) -> None:
    """
    http and https addresses in a line are links, opened in a new tab with
    no opener and no referrer; the punctuation after one is not part of it,
    and the line reads as it was sent.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 1 just arrived\n")
    line = (
        "see https://example.org/a?b=1&c=2. or (http://example.org/wiki/X_(y)),"
        " HTTPS://EXAMPLE.ORG!"
    )
    tcp.send(line.encode() + b"\n")
    tab.expectLast(f"client 0: {line}")
    links = tab.page.locator("#log li").last.locator("a")
    expect(links).to_have_text(
        [
            "https://example.org/a?b=1&c=2",
            "http://example.org/wiki/X_(y)",
            "HTTPS://EXAMPLE.ORG",
        ]
    )
    assert [link.get_attribute("href") for link in links.all()] == [
        "https://example.org/a?b=1&c=2",
        "http://example.org/wiki/X_(y)",
        "HTTPS://EXAMPLE.ORG",
    ]
    for link in links.all():
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(link).to_have_attribute("target", "_blank")
    tab.say("mine too: http://example.net/")
    tcp.expect(b"client 1: mine too: http://example.net/\n")
    tab.expectLast("client 1 (you): mine too: http://example.net/")
    expect(tab.page.locator("#log li").last.locator("a")).to_have_attribute(
        "href", "http://example.net/"
    )
    assert tab.errors == []


def test_onlyAddressesBecomeLinks(startServer: StartServer, browser: Browser) -> None:
    """
    Nothing but an http or https address becomes markup: links written in
    HTML, javascript: and data: addresses, other schemes and bare names
    stay text, and none of them runs.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 1 just arrived\n")
    lines = [
        "<a href=\"javascript:document.title='pwned'\">click</a>",
        "javascript:document.title='pwned'",
        "<a href=javascript:alert(1)>https</a>",
        "data:text/html,<script>document.title='pwned'</script>",
        "ftp://example.org/ www.example.org mailto:a@example.org http:// https:",
    ]
    tcp.send("".join(line + "\n" for line in lines).encode())
    tcp.send(b"sentinel\n")
    tab.expectLast("client 0: sentinel")
    assert tab.shown()[-len(lines) - 1 : -1] == [f"client 0: {line}" for line in lines]
    assert tab.page.locator("#log a, #log script, #log b").count() == 0
    assert tab.page.title() == "chat"
    assert tab.errors == []


def setHidden(page: Page, hidden: bool) -> None:
    """
    The page is hidden, or shown again, as a tab in the background is: the
    headless browser keeps every tab visible (bringing another tab to the
    front, minimising its window and focus emulation leave it visible), so
    the document's visibility is told over and the change announced.
    """
    page.evaluate(
        """(hidden) => {
        if (hidden) {
          Object.defineProperty(document, "visibilityState",
            {configurable: true, get: () => "hidden"});
          Object.defineProperty(document, "hidden",
            {configurable: true, get: () => true});
        } else {
          delete document.visibilityState;
          delete document.hidden;
        }
        document.dispatchEvent(new Event("visibilitychange"));
    }""",
        hidden,
    )


def test_unreadCountWhileHidden(startServer: StartServer, browser: Browser) -> None:
    """
    While the page is hidden the tab's title counts the lines the others
    said (not the notices); shown again, the title is the page's own, and
    stays so while it is seen.
    """
    server = startServer(*WEB)
    tcp = server.connect()
    tab = Tab(browser, webPort(server))
    tcp.expect(b"server: client 1 just arrived\n")
    setHidden(tab.page, True)
    tcp.send(b"one\n")
    expect(tab.page).to_have_title("(1) chat")
    other = Client(server.port)
    tcp.expect(b"server: client 2 just arrived\n")
    tcp.send(b"two\n")
    other.send(b"three\n")
    tab.expectLast("client 2: three")
    assert tab.page.title() == "(3) chat"
    setHidden(tab.page, False)
    expect(tab.page).to_have_title("chat")
    tcp.send(b"seen\n")
    tab.expectLast("client 0: seen")
    assert tab.page.title() == "chat"
    other.close()


STATES = """() => { window.states = [];
  const state = document.getElementById("state");
  new MutationObserver(() => window.states.push(state.textContent))
    .observe(state, {childList: true, characterData: true, subtree: true}); }"""
"""Notes every text the connection's state shows, from now on."""

COUNTED_FROM_3 = """() => window.states.some((text, at) => text === "connecting"
  && window.states.slice(0, at).includes("offline, retrying in 3 s"))"""
"""The state counted down from 3 s (at least) to connecting."""


def test_offlineCountsDownAndMarksTheReturn(tmp_path: Path, browser: Browser) -> None:
    """
    While offline the state counts the seconds down to the next try, one by
    one to 1 s, then says it connects; who was here stays listed, greyed;
    back, the log has a marker, with its time, where the page came back,
    and the list is the new room's.
    """
    servers = WebPortServers(tmp_path)
    port = servers.port
    first = servers.start()
    try:
        tab = Tab(browser, port)
        tab.expectPeople("client 0 (you)")  # in, before the TCP client
        first.clients.append(Client(first.port))
        tab.expectPeople("client 0 (you)", "client 1")
        tab.page.evaluate(STATES)
        assert first.stop() == 0
    finally:
        first.kill()
    tab.expectLast("shutting down")
    tab.page.wait_for_function(COUNTED_FROM_3, timeout=TIMEOUT * 3)
    tab.expectPeople("client 0 (you)", "client 1")
    expect(tab.page.locator("#count")).to_have_text("2 here")
    muted = tab.page.evaluate(
        "getComputedStyle(document.getElementById('count')).color"
    )
    for colour in tab.page.evaluate(COLOURS, "#people li"):
        assert colour[1] == muted
    states: list[str] = tab.page.evaluate("window.states")
    runs: list[list[int]] = [[]]
    for text in states:
        if text == "connecting":
            runs.append([])
            continue
        found = re.fullmatch(r"offline, retrying in (\d+) s", text)
        assert found is not None, states
        runs[-1].append(int(found[1]))
    for run in runs[:-1]:
        assert run == list(range(run[0], 0, -1)), states

    second = servers.start()
    try:
        # The next try may be as far as the countdown went (8 s).
        expect(tab.page.locator("#state")).to_have_text("connected", timeout=TIMEOUT)
        tab.expectPeople("client 0 (you)")
        tab.expectLast("1 client: client 0")
        expect(tab.page.locator("#people li")).not_to_have_css("color", muted)
        marker = tab.page.locator("#log li.divider")
        expect(marker).to_have_text(re.compile(r"^reconnected \d\d:\d\d$"))
        assert tab.shown()[-3:] == [
            marker.text_content(),
            "you are client 0",
            "1 client: client 0",
        ]
        expect(marker.locator("time")).to_have_attribute("datetime", re.compile("Z$"))
    finally:
        second.kill()


HEADERS = """() => { window.headers = [];
  const me = document.getElementById("me");
  new MutationObserver(() => window.headers.push(me.textContent))
    .observe(me, {childList: true, characterData: true, subtree: true}); }"""
"""Notes every text the header shows of the page's name, from now on."""


def test_headerNamesTheAccount(
    startServer: StartServer, browser: Browser, tmp_path: Path
) -> None:
    """
    Logged in, the header names the account from the first, never the
    client's number, and keeps it when /nick is refused.
    """
    users = tmp_path / "users"
    assert chatPasswd(users, "alice", "open sesame").returncode == 0
    server = startServer(*WEB, "--auth", str(users))
    tab = Tab(browser, webPort(server))
    tab.page.evaluate(HEADERS)
    tab.logIn("alice", "open sesame")
    expect(tab.page.locator("#me")).to_have_text("you are alice")
    tab.say("/nick alicia")
    tab.expectLast("with logins, your name is your account")
    tab.expectPeople("alice (you)")
    assert tab.page.evaluate("window.headers") == ["you are alice"]


def test_headerFollowsTheNick(startServer: StartServer, browser: Browser) -> None:
    """With --commands the header names the client, then the nick it takes."""
    server = startServer(*WEB, "--commands")
    tab = Tab(browser, webPort(server))
    expect(tab.page.locator("#me")).to_have_text("you are client 0")
    tab.page.evaluate(HEADERS)
    tab.say("/nick carol")
    expect(tab.page.locator("#me")).to_have_text("you are carol")
    tab.expectPeople("carol (you)")
    assert tab.page.evaluate("window.headers") == ["you are carol"]


def test_timesOnLiveLines(startServer: StartServer, browser: Browser) -> None:
    """
    Each line and notice that comes while the page is open begins with the
    time it came, as HH:MM in the browser's time zone in a <time> element
    whose datetime is the instant; in chat mode (messages) the history
    block's lines too, with the time they were said.
    """
    zone = "Asia/Kathmandu"  # UTC+05:45: the minutes are the zone's
    server = startServer(*WEB, "--history", "10")
    tcp = server.connect()
    tcp.expect(b"server: last 0 lines\nserver: end of history\n")
    other = server.connect()
    other.expect(b"server: last 0 lines\nserver: end of history\n")
    said = datetime.now().astimezone()
    tcp.send(b"before\n")
    other.expect(b"client 0: before\n")  # relayed, so in the history
    before = datetime.now().astimezone()
    tab = Tab(browser, webPort(server), timezoneId=zone)
    tcp.expect(b"server: client 2 just arrived\n")
    tcp.send(b"now\n")
    tab.expectLast("client 0: now")
    tab.say("mine")
    tcp.expect(b"client 2: mine\n")
    tab.expectLast("client 2 (you): mine")
    after = datetime.now().astimezone()
    items: list[dict[str, str | None]] = tab.page.evaluate(
        """() => [...document.querySelectorAll("#log li")].map((item) => ({
          kind: item.className,
          first: item.firstChild.nodeName,
          datetime: item.querySelector("time")?.dateTime ?? null,
          text: item.querySelector("time")?.textContent ?? null,
        }))"""
    )
    assert [item["kind"] for item in items] == [
        "notice",
        "notice",
        "divider",
        "line history",
        "divider",
        "line",
        "line mine",
    ]
    for item in items:
        if item["kind"] == "divider":
            assert item["datetime"] is None
            continue
        assert item["first"] == "TIME"
        assert item["datetime"] is not None
        at = datetime.fromisoformat(item["datetime"])
        earliest = said if item["kind"] == "line history" else before
        assert earliest - timedelta(seconds=1) <= at <= after + timedelta(seconds=1)
        assert item["text"] == at.astimezone(ZoneInfo(zone)).strftime("%H:%M")
