"""
Addresses and reasons as the log writes them.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache

from twisted.internet import error
from twisted.internet.interfaces import IAddress, ITransport
from twisted.python.failure import Failure


def describeAddress(address: IAddress) -> str:
    """
    C{address} as people write it: C{127.0.0.1:8080}, C{[::1]:8080}, or a
    UNIX socket's path.
    """
    host = getattr(address, "host", None)
    if host is None:
        name = getattr(address, "name", None)
        return f"unix:{os.fsdecode(name)}" if name else "a UNIX socket"
    port = address.port  # type: ignore[attr-defined]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


LOCAL_HOST = "this host"
"""The source every loopback address belongs to."""


def sourceOf(address: IAddress | None) -> str | None:
    """
    The source a connection from C{address} is counted under, by the limits
    per address (connections, failed logins), or L{None} for one that has no
    IP address (a UNIX socket).  One source is what one user can easily have
    many addresses in: an IPv6 address's /64 network (a host may take any
    address in it), every loopback address of either family, and an IPv4
    address whether it comes as itself or mapped into IPv6
    (C{::ffff:192.0.2.1}).
    """
    host = getattr(address, "host", None)
    return None if host is None else _source(host)


@lru_cache(maxsize=4096)
def _source(host: str) -> str:
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return LOCAL_HOST
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def describePeer(transport: ITransport) -> str:
    """
    Where the other end of C{transport} is: its address, or for a UNIX
    socket client (which has no name of its own) the socket it came in on.
    """
    peer = transport.getPeer()
    if getattr(peer, "host", None) is None and not getattr(peer, "name", None):
        return describeAddress(transport.getHost())
    return describeAddress(peer)


_REASONS = {
    # Most specific first: ConnectionAborted is a ConnectionLost.
    error.ConnectionAborted: "connection aborted by the server",
    error.ConnectionLost: "connection lost",
    error.ConnectionDone: "connection closed cleanly",
}


def describeReason(reason: Failure) -> str:
    """Why a connection ended, in a few words for the log."""
    for kind, words in _REASONS.items():
        if reason.check(kind):
            return words
    return reason.getErrorMessage()
