"""
Nicks (C{--commands}): which names a client may take, and the key that
makes two names the same one.
"""

from __future__ import annotations

import re

MAX_NICK = 32
"""The longest nick, in bytes."""

_LOOK_ALIKE = bytes.maketrans(b"i10", b"llo")
"""
After case folding: C{I}, C{l} and C{1} are one letter (and C{i} with
them, since C{I} folds to it), C{O} and C{0} another.
"""

_NICK = re.compile(rb"[A-Za-z0-9_-]{1,%d}\Z" % MAX_NICK)


def nickKey(name: bytes) -> bytes:
    """
    What two nicks that look alike have in common: the same letters ignoring
    case, and C{I l 1 i} taken for one letter, C{O 0} for another, so that
    C{aIice} and C{ALICE} are C{alice}, and C{b0b} is C{bob}.
    """
    return name.lower().translate(_LOOK_ALIKE)


_RESERVED = re.compile(
    b"(%s[%s]+|%s)\\Z"
    % (
        re.escape(nickKey(b"client")),
        re.escape(bytes(sorted(set(nickKey(b"0123456789"))))),
        re.escape(nickKey(b"server")),
    )
)
"""The keys of C{client} followed by digits and of C{server}."""


def validNick(name: bytes) -> bool:
    """
    Whether C{name} may be a nick: 1 to L{MAX_NICK} of C{A-Z a-z 0-9 _ -},
    and looking like neither C{client} followed by digits (the name of a
    client without a nick) nor C{server} (whose lines would pass for
    notices).
    """
    return _NICK.match(name) is not None and _RESERVED.match(nickKey(name)) is None
