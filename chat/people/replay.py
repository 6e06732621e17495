"""
The history stage (C{--history N}): a newcomer is sent what was said before
it came, as it enters the room, before the live room.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zope.interface import implementer

from chat.core.interfaces import IClient, IHistory, IStage

if TYPE_CHECKING:
    from chat.core.room import ChatRoom


@implementer(IStage)
class Replay:
    """Sends the room's C{history} to each client that enters it."""

    wholeLines = False

    def __init__(self, room: ChatRoom, history: IHistory) -> None:
        self._room = room
        self.history = history

    def arrived(self, client: IClient) -> bool:
        return False

    def entered(self, client: IClient) -> None:
        self._room.tell(client, *self.history.replay())

    def received(
        self, client: IClient, lines: list[bytes], frame: bytes
    ) -> list[bytes] | None:
        return lines

    def left(self, client: IClient, relay: bool) -> None:
        pass

    def reload(self) -> None:
        pass
