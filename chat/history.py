"""
The history of the room (C{--history N}): the last lines
relayed, exactly as they were delivered, for newcomers.
"""

from __future__ import annotations

import math
from collections import deque

from zope.interface import implementer

from chat import wire
from chat.interfaces import IHistory
from chat.limits import Limits

MAX_HISTORY = 10000
"""The most lines C{--history} may keep."""


@implementer(IHistory)
class History:
    """
    The last C{size} relayed lines, oldest first, and no more than
    C{maxBytes} of them: one bytes object a line, so memory is bounded by
    C{size} times the longest line (the client's prefix plus C{--max-line})
    and by C{maxBytes}.

    It is fed what the room's clients receive (L{record}), framed lines and
    notices mixed; notices (C{server: ...}) are left out, so that what is
    kept is what people said.  Nicks cannot be C{server}
    (L{chat.names.validNick}): no relayed line starts like a notice.
    """

    def __init__(self, size: int, maxBytes: int | None = None) -> None:
        self._lines: deque[bytes] = deque()
        self._size = size
        self._maxBytes = math.inf if maxBytes is None else maxBytes
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._lines)

    def record(self, data: bytes) -> None:
        """Keep the relayed lines of C{data}, whole lines, in order."""
        kept = self._lines
        for line in _relayedLines(data):
            kept.append(line)
            self._bytes += len(line) + 1
        while len(kept) > self._size or self._bytes > self._maxBytes:
            self._bytes -= len(kept.popleft()) + 1

    def recordOlder(self, data: bytes) -> bool:
        """
        Keep the relayed lines of C{data} as older than every line kept so
        far, as long as there is room for them.

        @return: whether there is room for more, older lines.
        """
        kept = self._lines
        for line in reversed(_relayedLines(data)):
            cost = len(line) + 1
            if len(kept) >= self._size or self._bytes + cost > self._maxBytes:
                return False
            kept.appendleft(line)
            self._bytes += cost
        return len(kept) < self._size

    def replay(self) -> bytes:
        """What a newcomer receives before the live room."""
        lines = self._lines
        body = wire.DELIMITER.join(lines) + wire.DELIMITER if lines else b""
        return wire.historyStart(len(lines)) + body + wire.END_OF_HISTORY


def historyFor(size: int, limits: Limits) -> History:
    """
    A history of C{size} lines for a room with C{limits}: it holds at most
    half of the soft SendQ limit, so that a newcomer is never cut off for
    the history it is sent.
    """
    return History(size, limits.sendqSoft // 2 if limits.sendqHard else None)


def _relayedLines(data: bytes) -> list[bytes]:
    """The lines of C{data}, whole lines, that are not notices."""
    lines = data.split(wire.DELIMITER)
    del lines[-1]
    prefix = wire.SERVER_PREFIX
    return [line for line in lines if not line.startswith(prefix)]
