"""
Which hosts the web door serves: the name in a request's C{Host} header
must be one of them, or the request is forbidden.

A page from another site cannot have the browser send another C{Host};
but its own name, pointed at the server's address once the page is loaded
(DNS rebinding), would make the server the page's own origin.  So the name
must be one the server knows is its own: the address the connection came
in on (for a listener on one address, that address), a loopback name or
address (C{localhost}, C{127.0.0.0/8}, C{::1}) when that address is a
loopback one (as it is on a listener on loopback or on every interface,
reached from this machine), or a name given with C{--web-host}.  The
port is not checked.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from twisted.internet.interfaces import IAddress

from chat.core.values import BadValueError

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_HOST_HEADER = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(:[0-9]*)?\Z")

LOOPBACK_NAMES = frozenset({"localhost"})


def hostName(option: str, text: str) -> str:
    """
    C{text} as a host name (C{chat.example.org}) or IP address, in the
    form it is compared in: lower case, without a final dot, an IPv6
    address without brackets.

    @raise BadValueError: it is neither (a port is not part of it).
    """
    name = _normalName(text)
    if name is None:
        raise BadValueError(
            f"{option}: {text!r} is not a host name or IP address (without a port)"
        )
    return name


def _normalName(text: str) -> str | None:
    """C{text} as L{hostName} has it, or L{None} if it is none."""
    bare = text.removeprefix("[").removesuffix("]")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        pass
    else:
        if (bare != text) != (address.version == 6):
            return None  # brackets are for IPv6 addresses only
        return str(_unmapped(address))
    name = text.lower().removesuffix(".")
    if 0 < len(name) <= 253 and all(map(_LABEL.match, name.split("."))):
        return name
    return None


def _unmapped(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """C{address}, or the IPv4 address it maps (C{::ffff:127.0.0.1})."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _isLoopback(name: str) -> bool:
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Hosts:
    """The names the web door serves: its own addresses and C{others}."""

    def __init__(self, others: Iterable[str]) -> None:
        self._others = frozenset(others)

    def allows(self, headers: Sequence[bytes] | None, local: IAddress) -> bool:
        """
        Whether a request with the C{Host} C{headers} (L{None}: none), that
        came in on the address C{local}, is for a host served here.  One
        without a C{Host} (not a browser: HTTP/1.0) is for the address it
        came in on.
        """
        if headers is None:
            return True
        if len(headers) != 1:
            return False
        found = _HOST_HEADER.match(headers[0].decode("latin-1"))
        name = None if found is None else _normalName(found.group(1))
        if name is None:
            return False
        if name in self._others:
            return True
        host = getattr(local, "host", None)
        if host is None:
            return False  # a UNIX socket: only names given are its own
        own = str(_unmapped(ipaddress.ip_address(host)))
        return name == own or (_isLoopback(own) and _isLoopback(name))
