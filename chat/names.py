"""
Nicks (SPEC section 9): which names a client may take, and the key that
makes two names the same one.
"""

from __future__ import annotations

import re

MAX_NICK = 32
"""The longest nick, in bytes."""

_NICK = re.compile(rb"[A-Za-z0-9_-]{1,%d}\Z" % MAX_NICK)
_RESERVED = re.compile(rb"(client[0-9]+|server)\Z", re.IGNORECASE)


def validNick(name: bytes) -> bool:
    """
    Whether C{name} may be a nick: 1 to L{MAX_NICK} of C{A-Z a-z 0-9 _ -},
    and not C{client} followed by digits (the name of a client without a
    nick) nor C{server} (whose lines would pass for notices), in any case.
    """
    return _NICK.match(name) is not None and _RESERVED.match(name) is None


def nickKey(name: bytes) -> bytes:
    """What two nicks that are the same one ignoring case have in common."""
    return name.lower()
