"""
The history of the room (C{--history N}): the last lines
relayed, exactly as they were delivered, for newcomers.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Sequence
from itertools import accumulate

from zope.interface import implementer

from chat.core import wire
from chat.core.interfaces import IHistory
from chat.core.limits import Limits
from chat.core.sendq import Chunk

MAX_HISTORY = 10000
"""The most lines C{--history} may keep."""

BLOCK = 1 << 16
"""Bytes of lines joined into one shared block, about."""

BLOCK_LINES = 128
"""Lines joined into one shared block, at most: a replay is few pieces."""


class Block:
    """
    Whole lines, each with its C{\\n}, joined once: every newcomer's send
    queue holds the same bytes.  The oldest lines may be dropped from it;
    the rest is then shared as a view.
    """

    __slots__ = ("_data", "_ends", "_first")

    def __init__(self, lines: Sequence[bytes]) -> None:
        self._data = b"".join(lines)
        self._ends = array("I", accumulate(map(len, lines)))
        self._first = 0

    def __len__(self) -> int:
        return len(self._ends) - self._first

    def dropOldest(self) -> int:
        """Drop the oldest line kept: its bytes."""
        first, ends = self._first, self._ends
        self._first += 1
        return ends[first] - (ends[first - 1] if first else 0)

    def kept(self) -> Chunk:
        """The lines kept, without a copy."""
        if not self._first:
            return self._data
        return memoryview(self._data)[self._ends[self._first - 1] :]


@implementer(IHistory)
class History:
    """
    The last C{size} relayed lines, oldest first, and no more than
    C{maxBytes} of them (each line counted with its C{\\n}), so memory is
    bounded by C{size} times the longest line (the client's prefix plus
    C{--max-line}) and by C{maxBytes}.

    The lines are kept in shared blocks (L{Block}) of about L{BLOCK} bytes:
    a replay is the list of those blocks and of the newest lines, not yet
    in one, never a copy for each newcomer.

    It is fed what the room's clients receive (L{record}), framed lines and
    notices mixed; notices (C{server: ...}) are left out, so that what is
    kept is what people said.  Nicks cannot be C{server}
    (L{chat.core.names.validNick}): no relayed line starts like a notice.

    @ivar _older: lines older than the blocks (L{recordOlder}), newest first.
    @ivar _newer: lines newer than the blocks, oldest first.
    """

    def __init__(self, size: int, maxBytes: int | None = None) -> None:
        self._older: list[bytes] = []
        self._olderBytes = 0
        self._blocks: deque[Block] = deque()
        self._newer: deque[bytes] = deque()
        self._newerBytes = 0
        self._count = 0
        self._bytes = 0
        self.size = size
        self._maxBytes = math.inf if maxBytes is None else maxBytes

    def __len__(self) -> int:
        return self._count

    def record(self, data: bytes) -> None:
        """Keep the relayed lines of C{data}, whole lines, in order."""
        lines = _relayedLines(data)
        if not lines:
            return
        added = sum(map(len, lines))
        self._newer.extend(lines)
        self._newerBytes += added
        self._count += len(lines)
        self._bytes += added
        if self._newerBytes >= BLOCK or len(self._newer) >= BLOCK_LINES:
            self._blocks.append(Block(self._newer))
            self._newer.clear()
            self._newerBytes = 0
        while self._count > self.size or self._bytes > self._maxBytes:
            self._bytes -= self._dropOldest()
            self._count -= 1

    def _dropOldest(self) -> int:
        """Drop the oldest line kept: its bytes."""
        if self._older:
            cost = len(self._older.pop())
            self._olderBytes -= cost
            return cost
        if self._blocks:
            head = self._blocks[0]
            cost = head.dropOldest()
            if not head:
                self._blocks.popleft()
            return cost
        cost = len(self._newer.popleft())
        self._newerBytes -= cost
        return cost

    def recordOlder(self, data: bytes) -> bool:
        """
        Keep the relayed lines of C{data} as older than every line kept so
        far, as long as there is room for them.

        @return: whether there is room for more, older lines.
        """
        older = self._older
        for line in reversed(_relayedLines(data)):
            cost = len(line)
            if self._count >= self.size or self._bytes + cost > self._maxBytes:
                return False
            older.append(line)
            self._olderBytes += cost
            self._count += 1
            self._bytes += cost
            if self._olderBytes >= BLOCK or len(older) >= BLOCK_LINES:
                self._blocks.appendleft(Block(older[::-1]))
                older.clear()
                self._olderBytes = 0
        return self._count < self.size

    def replay(self) -> list[Chunk]:
        """
        What a newcomer receives before the live room, in pieces shared
        with every other newcomer: they must not change.
        """
        pieces: list[Chunk] = [wire.historyStart(self._count)]
        pieces += reversed(self._older)
        pieces += [block.kept() for block in self._blocks]
        pieces += self._newer
        pieces.append(wire.END_OF_HISTORY)
        return pieces


def historyFor(size: int, limits: Limits) -> History:
    """
    A history of C{size} lines for a room with C{limits}: it holds at most
    half of the soft SendQ limit, so that a newcomer is never cut off for
    the history it is sent.
    """
    return History(size, limits.sendqSoft // 2 if limits.sendqHard else None)


def _relayedLines(data: bytes) -> list[bytes]:
    """The lines of C{data}, whole lines with their C{\\n}, that are not notices."""
    delimiter, prefix = wire.DELIMITER, wire.SERVER_PREFIX
    lines = data.split(delimiter)
    del lines[-1]
    return [line + delimiter for line in lines if not line.startswith(prefix)]
