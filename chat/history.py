"""
The history of the room (SPEC section 9, C{--history N}): the last lines
relayed, exactly as they were delivered, for newcomers.
"""

from __future__ import annotations

from collections import deque

from chat import wire

MAX_HISTORY = 10000
"""The most lines C{--history} may keep."""


class History:
    """
    The last C{size} relayed lines, oldest first.  Its memory is bounded by
    C{size} times the longest line a client's prefix and C{--max-line}
    allow: one bytes object a line.

    It is fed what the room's clients receive (L{record}), framed lines and
    notices mixed; notices (C{server: ...}) are left out, so that what is
    kept is what people said.  Nicks cannot be C{server}
    (L{chat.names.validNick}): no relayed line starts like a notice.
    """

    def __init__(self, size: int) -> None:
        self._lines: deque[bytes] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._lines)

    def record(self, data: bytes) -> None:
        """Keep the relayed lines of C{data}, whole lines, in order."""
        lines = data.split(wire.DELIMITER)
        del lines[-1]
        prefix = wire.SERVER_PREFIX
        self._lines.extend(line for line in lines if not line.startswith(prefix))

    def recordOlder(self, data: bytes) -> bool:
        """
        Keep the relayed lines of C{data} as older than every line kept so
        far, as long as there is room for them.

        @return: whether there is room for more, older lines.
        """
        lines = data.split(wire.DELIMITER)
        del lines[-1]
        prefix = wire.SERVER_PREFIX
        kept, room = self._lines, self.room()
        older = [line for line in lines if not line.startswith(prefix)]
        kept.extendleft(reversed(older[max(0, len(older) - room) :]))
        return self.room() > 0

    def room(self) -> int:
        """How many more lines this history can keep without dropping any."""
        assert self._lines.maxlen is not None
        return self._lines.maxlen - len(self._lines)

    def replay(self) -> bytes:
        """What a newcomer receives before the live room."""
        lines = self._lines
        body = wire.DELIMITER.join(lines) + wire.DELIMITER if lines else b""
        return wire.historyStart(len(lines)) + body + wire.END_OF_HISTORY
