"""
The record of messages (chat mode): the last messages delivered to everyone
in the room, kept for the clients that catch up after a reconnection
(C{/ws?since=ID} of the web's C{chat.json}).

Only what everyone was sent is kept: lines, actions and notices to all.
What one client was told alone (answers to its commands, private
messages) is not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from zope.interface import implementer

from chat.core.interfaces import IMessageRecord
from chat.core.limits import Limits
from chat.core.messages import ACTION, LINE, Message

KEPT = 1000
"""The fewest messages kept, however old."""

KEPT_SECONDS = 600.0
"""The messages of the last this many seconds are kept, however many."""

KEPT_BYTES = 16 * 1024 * 1024
"""The most bytes of messages kept (each counted as L{Message.size})."""

SAID = (LINE, ACTION)
"""The kinds of message a history holds: what people said."""


@implementer(IMessageRecord)
class MessageRecord:
    """
    The messages delivered to everyone, oldest first: at least the last
    C{size} of them and all those of the last C{seconds} (by the time of
    the newest), whichever are more, but never more than C{maxBytes} of
    them.

    @ivar _floor: the id of the newest message forgotten (0 while none
        is): the record covers every message after it.
    """

    def __init__(
        self,
        size: int = KEPT,
        seconds: float = KEPT_SECONDS,
        maxBytes: int = KEPT_BYTES,
    ) -> None:
        self._size = size
        self._age = int(seconds * 1000)
        self._maxBytes = maxBytes
        self._kept: deque[Message] = deque()
        self._bytes = 0
        self._floor = 0

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def bytes(self) -> int:
        """The bytes of the messages kept."""
        return self._bytes

    def add(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        kept = self._kept
        kept.extend(messages)
        self._bytes += sum(message.size for message in messages)
        oldest = messages[-1].time - self._age
        while kept and (
            self._bytes > self._maxBytes
            or (len(kept) > self._size and kept[0].time < oldest)
        ):
            gone = kept.popleft()
            self._bytes -= gone.size
            self._floor = gone.id

    def addOlder(self, messages: Sequence[Message]) -> bool:
        kept = self._kept
        newest = kept[-1].time if kept else messages[-1].time
        for message in reversed(messages):
            if (
                len(kept) >= self._size and message.time < newest - self._age
            ) or self._bytes + message.size > self._maxBytes:
                self._floor = max(self._floor, message.id)
                return False
            kept.appendleft(message)
            self._bytes += message.size
        return True

    def after(self, since: int) -> tuple[bool, list[Message]]:
        missed = []
        for message in reversed(self._kept):
            if message.id <= since:
                break
            missed.append(message)
        missed.reverse()
        return self._floor <= since, missed

    def last(self, count: int) -> list[Message]:
        said: list[Message] = []
        for message in reversed(self._kept):
            if len(said) >= count:
                break
            if message.kind in SAID:
                said.append(message)
        said.reverse()
        return said


def recordFor(history: int, limits: Limits) -> MessageRecord:
    """
    The record of a room with C{limits} whose newcomers are sent C{history}
    lines: it keeps at least as many messages, and at most half of the soft
    SendQ limit (with SendQ limits), so that a client is never cut off for
    the messages it catches up with.
    """
    maxBytes = KEPT_BYTES
    if limits.sendqHard:
        maxBytes = min(maxBytes, limits.sendqSoft // 2)
    return MessageRecord(max(KEPT, history), maxBytes=maxBytes)
