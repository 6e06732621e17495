"""
The web site of C{--web}: the page at C{/}, the WebSocket at C{/ws}.
"""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from chat.web.admission import WebConnection
from chat.web.hosts import Hosts
from chat.web.origins import Origins
from chat.web.requests import SERVER, ChatSite
from chat.web.socket import RoomSocket, RoomSocketFactory

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


class RoomSocketResource(Resource):
    """
    The WebSocket at C{/ws}.  The connection of an upgrade request is
    handed to a L{RoomSocket}, which reads the request again: the web
    door's connection (L{WebConnection}) stays beneath it, in the place it
    was given in the room.  Twisted Web's channel and the request are let
    go: they hold each other, and only the garbage collector would free
    them, late (1.7 KiB a WebSocket).
    """

    isLeaf = True

    def __init__(self, sockets: RoomSocketFactory) -> None:
        super().__init__()
        self._sockets = sockets

    def render(self, request: Request) -> bytes | int:
        channel: Any = request.channel
        door = channel.transport
        if not isinstance(door, WebConnection):
            raise TypeError("the WebSocket is served through the web door only")
        socket = self._sockets.buildProtocol(request.getClientAddress())
        assert isinstance(socket, RoomSocket)
        socket.door = door
        channel.transport = None
        channel.requests.clear()
        door.upgrade(socket)
        door.resumeProducing()  # the channel may have paused it meanwhile
        # What the channel read behind the request (frames of a client that
        # did not wait for the answer) follows it.
        socket.dataReceived(requestHead(request) + channel.clearLineBuffer())
        return NOT_DONE_YET


def requestHead(request: Request) -> bytes:
    """The head of C{request}, as it came (it has no body)."""
    lines = [b"%s %s HTTP/1.1" % (request.method, request.uri)]
    for name, values in request.requestHeaders.getAllRawHeaders():
        lines.extend(name + b": " + value for value in values)
    return b"\r\n".join([*lines, b"", b""])


def webSite(
    origins: list[str],
    log: Logger,
    clock: IReactorTime,
    features: Features = Features(),
    hosts: list[str] = [],  # noqa: B006 (never changed)
) -> Site:
    """
    The site for browsers: its page, offering C{features}, and its
    WebSocket, which pages of their own origin and of C{origins} may open;
    for the server's own addresses and C{hosts} (L{chat.web.hosts}).  Its
    connections come through the web door (L{chat.web.admission}), which
    gives them their place in the room.
    """
    root = Resource()
    html = files(__package__).joinpath(PAGE).read_text()
    root.putChild(b"", Page(pageFor(html, features)))
    sockets = RoomSocketFactory(Origins(origins), log, clock)
    # The handshake's answers name the server as every other answer does.
    sockets.server = SERVER.decode()
    root.putChild(b"ws", RoomSocketResource(sockets))
    return ChatSite(root, Hosts(hosts))
