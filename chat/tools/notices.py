"""
What the tools recognize in what a chat server sends them, spelled from the
formats of L{chat.wire} rather than again.
"""

from __future__ import annotations

import re

from chat import wire


def idPattern(spelled: bytes, after: bytes = b"") -> re.Pattern[bytes]:
    """
    A pattern matching C{spelled} (a C{%d} format of L{chat.wire}) whose
    first group is the client id, followed by the pattern C{after}.
    """
    before, _, rest = spelled.partition(b"%d")
    return re.compile(re.escape(before) + rb"(\d+)" + re.escape(rest) + after)


ARRIVAL = idPattern(wire.ARRIVED)
"""An arrival notice; its group is the id of the client that arrived."""

RELAYED = idPattern(wire.LINE_PREFIX)
"""The start of a relayed line; its group is the id of its sender."""

RELAYED_START = wire.LINE_PREFIX.partition(b"%d")[0]
"""What every relayed line starts with, before its sender's id."""

ARRIVED_END = wire.ARRIVED.partition(b"%d")[2].removesuffix(wire.DELIMITER)
"""What an arrival notice ends with, before its newline."""
