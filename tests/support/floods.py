"""
Lines to relay, and what the others receive of them.
"""

from __future__ import annotations


def flood(count: int) -> bytes:
    """C{count} lines of different lengths."""
    return b"".join(
        b"line %d of the flood %s\n" % (n, b"f" * (n % 40)) for n in range(count)
    )


def relayedFrom(clientId: int, lines: bytes) -> bytes:
    """What the others receive for C{lines} from client C{clientId}."""
    prefix = b"client %d: " % clientId
    return b"".join(prefix + line + b"\n" for line in lines.splitlines())
