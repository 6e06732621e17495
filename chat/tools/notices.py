"""
What the tools recognize in what a chat server sends them, spelled from the
formats of L{chat.core.wire} rather than again.
"""

from __future__ import annotations

import re

from chat.core import wire


def idPattern(spelled: bytes, after: bytes = b"") -> re.Pattern[bytes]:
    """
    A pattern matching C{spelled} (a C{%d} format of L{chat.core.wire}) whose
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


HISTORY_START = wire.historyStart(0).partition(b"0")[0]
"""What the history block a newcomer may first receive starts with."""


class HistorySkipper:
    """
    Takes away the history block that a server with C{--history} sends a
    newcomer before anything else, and the login prompt that a server with
    C{--auth} sends before it, so that a tool sees the live room alone, as
    from a server without them.
    """

    def __init__(self) -> None:
        self._held = b""
        self._prompted = False
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """What of C{data}, received next, is neither history nor the prompt."""
        if self.done:
            return data
        data = self._held + data
        if not self._prompted:
            prompt = wire.LOGIN_PROMPT
            if prompt.startswith(data) and data != prompt:
                self._held = data
                return b""
            self._prompted = True
            data = data.removeprefix(prompt)
        if not data.startswith(HISTORY_START[: len(data)]):
            self.done = True
            return data
        end = data.find(wire.END_OF_HISTORY)
        if end < 0:
            self._held = data
            return b""
        self.done = True
        self._held = b""
        return data[end + len(wire.END_OF_HISTORY) :]
