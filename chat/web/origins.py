"""
Which pages may open the WebSocket: the page's own origin, and those given
with C{--web-origin}.

A browser sends the C{Origin} of the page that opens a WebSocket; without
this check any site a user visits could join the room in their name.
Programs that are not browsers send no C{Origin}, and could send any:
they are let in, as over TCP.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from chat.core.values import BadValueError


def origin(option: str, text: str) -> str:
    """
    C{text} as an origin, C{http://HOST[:PORT]} or C{https://HOST[:PORT]},
    in the form browsers send it (lower case, no default port).

    @raise BadValueError: it is not one.
    """
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise BadValueError(
            f"{option}: {text!r} is not an origin (http://HOST[:PORT] or https://...)"
        )
    scheme = parts.scheme.lower()
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


class Origins:
    """
    The origins allowed to open the WebSocket: the page's own, where the
    request came (its C{Host}), and C{others}.
    """

    def __init__(self, others: list[str]) -> None:
        self._others = frozenset(others)

    def allows(self, origin: str | None, host: str, secure: bool) -> bool:
        """
        Whether a WebSocket request from a page of C{origin} (L{None}: no
        browser) to C{host} over TLS or not (C{secure}) is let in.
        """
        if origin is None:
            return True
        origin = origin.lower()
        own = f"{'https' if secure else 'http'}://{host.lower()}"
        return origin in (own, _withoutDefaultPort(own)) or origin in self._others


def _withoutDefaultPort(url: str) -> str:
    """C{url} without a port that is its scheme's default."""
    for scheme, port in (("http://", ":80"), ("https://", ":443")):
        if url.startswith(scheme) and url.endswith(port):
            return url.removesuffix(port)
    return url
