"""
Addresses and reasons as the log writes them.
"""

from __future__ import annotations

import os

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
