"""
The page in a tab of Debian's chromium, driven by Playwright, and axe-core's
check of it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    ViewportSize,
    WebSocket,
    WebSocketRoute,
    expect,
)

from tests.conftest import CHROMIUM

BROWSER_TESTS = [pytest.mark.live, pytest.mark.browser]
"""
The marks of a module of browser tests; with a skip when chromium is missing
(an error under CI, which must run them).
"""


if CHROMIUM is None:  # pragma: no cover (depends on the machine)
    missing = (
        "chromium is not installed; the browser tests need it"
        " (Debian, Ubuntu: apt-get install chromium)"
    )
    if os.environ.get("CI") == "true":
        raise AssertionError(missing)
    BROWSER_TESTS.append(pytest.mark.skip(reason=missing))


TIMEOUT = 20_000
"""Milliseconds any wait in the browser may take."""

POLL = 20
"""Milliseconds between two looks at what the page received."""

# Every expect() waits as long as the page's own waits, not Playwright's
# five seconds: on a busy machine a page may take longer to show a line.
expect.set_options(timeout=TIMEOUT)


DESKTOP = ViewportSize(width=1280, height=720)


PHONE = ViewportSize(width=375, height=667)
"""The sizes the page is looked at: a laptop's window, a phone's."""


TIME = r"(?:\d\d:\d\d )?"
"""The time a line or notice of the log begins with, when it has one."""


AXE = Path(__file__).parent / "vendor" / "axe.min.js"
"""axe-core, the accessibility checker, as its authors publish it."""


WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""axe-core's tags of the WCAG 2.1 level AA rules."""


class Tab:
    """
    The page in a tab of its own, with the text frames it received and the
    errors it met.
    """

    def __init__(
        self,
        browser: Browser,
        port: int,
        colorScheme: Literal["light", "dark"] = "light",
        viewport: ViewportSize = DESKTOP,
        timezoneId: str | None = None,
        route: Callable[[WebSocketRoute], None] | None = None,
    ) -> None:
        """
        With C{route}, the page's WebSocket goes through it, as
        Playwright's C{route_web_socket} gives it.
        """
        self.page: Page = browser.new_page(
            color_scheme=colorScheme, viewport=viewport, timezone_id=timezoneId
        )
        if route is not None:
            self.page.route_web_socket(re.compile(r"/ws(?:\?|$)"), route)
        self.page.set_default_timeout(TIMEOUT)
        self.frames: list[str] = []
        self.sent: list[list[str]] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("websocket", self._opened)
        self.page.goto(f"http://127.0.0.1:{port}/")

    def _console(self, message: ConsoleMessage) -> None:
        self.console.append(message.text)
        if message.type == "error":
            self.errors.append(message.text)

    def _opened(self, socket: WebSocket) -> None:
        sent: list[str] = []
        self.sent.append(sent)
        socket.on("framereceived", self._received)
        socket.on("framesent", lambda payload: sent.append(str(payload)))

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

    def messages(self) -> list[str]:
        """
        The frames received so far, in chat mode (C{chat.json}), as lines:
        each message as the line it is without messages, each other object
        (C{caughtUp}) as its JSON.
        """
        return [line for payload in self.frames for line in asLines(payload)]

    def waitForMessages(self, *expected: str) -> None:
        """
        The next messages the page receives, as lines (see L{messages}), are
        exactly C{expected}, in as many whole frames: polled.
        """
        for _ in range(TIMEOUT // POLL):
            if len(self.messages()) >= len(expected):
                break
            self.page.wait_for_timeout(POLL)
        got: list[str] = []
        while self.frames and len(got) < len(expected):
            got += asLines(self.frames.pop(0))
        assert got == list(expected)

    def say(self, text: str) -> None:
        self.page.fill("#text", text)
        self.page.press("#text", "Enter")

    def expectLast(self, text: str, timeout: float = TIMEOUT) -> None:
        """The log's last line or notice reads C{text}, after its time."""
        expect(self.page.locator("#log li").last).to_have_text(
            re.compile(f"^{TIME}{re.escape(text)}$"), timeout=timeout
        )

    def expectShown(self, text: str) -> None:
        """
        A line or notice of the log reads C{text}, after its time, wherever
        it is: what the page asked for itself as it connected (its C{/who})
        may be answered after it.
        """
        shown = self.page.locator("#log li").filter(
            has_text=re.compile(f"^{TIME}{re.escape(text)}$")
        )
        expect(shown).to_have_count(1)

    def expectPeople(self, *names: str) -> None:
        expect(self.page.locator("#people li")).to_have_text(list(names))

    def logIn(self, name: str, password: str) -> None:
        """Fill the login form in and send it."""
        self.page.fill("#name", name)
        self.page.fill("#password", password)
        self.page.click("#enter")

    def shown(self) -> list[str]:
        """The text of everything in the page's log, after the times."""
        return [
            re.sub(f"^{TIME}", "", text)
            for text in self.page.locator("#log li").all_text_contents()
        ]


def asLines(payload: str) -> list[str]:
    """
    A frame of C{chat.json} as lines: its messages as the lines they are
    without messages, any other object as its JSON.
    """
    frame = json.loads(payload)
    if "messages" not in frame:
        return [json.dumps(frame)]
    lines = []
    for message in frame["messages"]:
        name, text, kind = message["from"]["name"], message["text"], message["kind"]
        if kind == "notice":
            lines.append(f"server: {text}")
        elif kind == "action":
            lines.append(f"* {name} {text}" if text else f"* {name}")
        elif kind == "private":
            lines.append(f"{name} (private): {text}")
        else:
            lines.append(f"{name}: {text}")
    return lines


def axeViolations(page: Page) -> list[str]:
    """What axe-core finds against WCAG 2.1 AA in C{page}: rule, element."""
    page.evaluate(AXE.read_text())
    found: list[dict[str, object]] = page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}})
        .then((results) => results.violations.map((rule) => ({
          rule: rule.id, where: rule.nodes.map((node) => node.target.join(" ")),
        })))""",
        WCAG_AA,
    )
    return [f"{rule['rule']}: {rule['where']}" for rule in found]
