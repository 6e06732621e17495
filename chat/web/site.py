"""
The web site of C{--web}: the page at C{/}, the WebSocket at C{/ws}.
"""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode
from dataclasses import dataclass
from importlib.resources import files

from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory
from twisted.logger import Logger

from chat.web.hosts import Hosts
from chat.web.http import DoorRequest, answer
from chat.web.origins import Origins
from chat.web.socket import RoomSocketFactory

PAGE = "page.html"
"""The page, with its style and script inline, in this package."""


@dataclass(frozen=True)
class Features:
    """
    The chat features (chat mode) the server was started with, which
    the page offers too: a login form (C{auth}), commands and names
    (C{commands}), the history block (C{history}, the most lines a
    newcomer is sent).
    """

    auth: bool = False
    commands: bool = False
    history: int = 0

    def attributes(self) -> str:
        """Them as the page's C{<body>} attributes, which its script reads."""
        return (
            (" data-auth" if self.auth else "")
            + (" data-commands" if self.commands else "")
            + (f' data-history="{self.history}"' if self.history else "")
        )


def pageFor(html: str, features: Features) -> str:
    """
    The page C{html} told C{features}, on its C{<body>}: its inline script
    and style, and so their hashes in the policy, are the same whatever the
    features.
    """
    if html.count("<body>") != 1:
        raise ValueError("the page has no single <body> to mark")
    return html.replace("<body>", f"<body{features.attributes()}>")


def contentSecurityPolicy(html: str) -> str:
    """
    The policy that lets C{html} run its own inline script and style, by
    their hashes, and nothing else: no other script, style, frame, form
    target or remote image; connections to its own origin only.
    """

    def hashes(tag: str) -> str:
        found = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.DOTALL)
        return " ".join(
            f"'sha256-{b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"
            for text in found
        )

    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {hashes('script')}",
            f"style-src {hashes('style')}",
            "connect-src 'self'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


class Page:
    """The page at C{/}: one HTML document, served as it is."""

    def __init__(self, html: str) -> None:
        self.body = html.encode()
        self.headers = [
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Content-Security-Policy", contentSecurityPolicy(html).encode()),
            (b"X-Content-Type-Options", b"nosniff"),
            (b"Referrer-Policy", b"no-referrer"),
            (b"Cache-Control", b"no-cache"),
        ]
        self._answer = answer(200, self.headers, self.body)
        self._head = answer(200, self.headers, self.body, bodyless=True)

    def answer(self, bodyless: bool = False) -> bytes:
        """The whole answer to a C{GET}, or without its body to a C{HEAD}."""
        return self._head if bodyless else self._answer


class WebSite(Factory[DoorRequest]):
    """
    The site of the web door: each connection's request (L{DoorRequest})
    is for its C{page} or the WebSocket (C{sockets}), on C{hosts}.
    """

    protocol = DoorRequest
    noisy = False

    def __init__(self, page: Page, hosts: Hosts, sockets: RoomSocketFactory) -> None:
        self.page = page
        self.hosts = hosts
        self.sockets = sockets


def webSite(
    origins: list[str],
    log: Logger,
    clock: IReactorTime,
    features: Features = Features(),
    hosts: list[str] = [],  # noqa: B006 (never changed)
) -> WebSite:
    """
    The site for browsers: its page, offering C{features}, and its
    WebSocket, which pages of their own origin and of C{origins} may open;
    for the server's own addresses and C{hosts} (L{chat.web.hosts}).  Its
    connections come through the web door (L{chat.web.admission}), which
    gives them their place in the room.
    """
    html = files(__package__).joinpath(PAGE).read_text()
    sockets = RoomSocketFactory(Origins(origins), log, clock)
    return WebSite(Page(pageFor(html, features)), Hosts(hosts), sockets)
