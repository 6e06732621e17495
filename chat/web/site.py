"""
The web site of C{--web}: the page at C{/}, the WebSocket at C{/ws}.
"""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode
from dataclasses import dataclass
from importlib.resources import files

from autobahn.twisted.resource import WebSocketResource
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from chat.web.origins import Origins
from chat.web.socket import RoomSocketFactory

PAGE = "page.html"
"""The page, with its style and script inline, in this package."""


@dataclass(frozen=True)
class Features:
    """
    The chat features (SPEC section 9) the server was started with, which
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


class Page(Resource):
    """The page at C{/}: one HTML document, served as it is."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self._body = html.encode()
        self._headers = {
            b"content-type": b"text/html; charset=utf-8",
            b"content-security-policy": contentSecurityPolicy(html).encode(),
            b"x-content-type-options": b"nosniff",
            b"referrer-policy": b"no-referrer",
            b"cache-control": b"no-cache",
        }

    def render_GET(self, request: Request) -> bytes:
        for name, value in self._headers.items():
            request.setHeader(name, value)
        return self._body


class RoomSocketResource(WebSocketResource):
    """
    The WebSocket at C{/ws}.  Once it has the connection, Twisted Web's
    channel and the upgrade request are let go: they hold each other, and
    only the garbage collector would free them, late (1.7 KiB a WebSocket).
    """

    def render(self, request: Request) -> bytes | int:
        self._passOnFrames(request)
        rendered: bytes | int = super().render(request)
        if request.channel is not None and request.channel.transport is None:
            request.channel.requests.clear()
        return rendered

    @staticmethod
    def _passOnFrames(request: Request) -> None:
        """
        What Twisted Web's channel read behind the upgrade request (frames
        of a client that did not wait for the answer) goes at the end of
        the request's content, which autobahn hands on to the WebSocket
        after the request.
        """
        channel, content = request.channel, request.content
        if channel.transport is None or content is None:
            return  # over HTTP/2, which autobahn refuses
        content.seek(0, 2)
        content.write(channel.clearLineBuffer())
        content.seek(0)


def webSite(
    room: ServerFactory[Protocol],
    origins: list[str],
    log: Logger,
    clock: IReactorTime,
    features: Features = Features(),
) -> Site:
    """
    The site for browsers in C{room}: its page, offering C{features}, and
    its WebSocket, which pages of their own origin and of C{origins} may
    open.
    """
    root = Resource()
    html = files(__package__).joinpath(PAGE).read_text()
    root.putChild(b"", Page(pageFor(html, features)))
    sockets = RoomSocketFactory(room, Origins(origins), log, clock)
    root.putChild(b"ws", RoomSocketResource(sockets))
    return Site(root)
