"""
The history stage (C{--history N}): a newcomer is sent what was said before
it came, as it enters the room, before the live room.

In chat mode, a client that reads messages (the web's C{chat.json}) and
comes back (with the id of the last message it had) is sent instead the
messages it missed, from the record of messages: once each, oldest first,
then the live room, with nothing between and nothing twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zope.interface import implementer

from chat.core import wire
from chat.core.interfaces import IClient, IHistory, IMessageRecord, IStage

if TYPE_CHECKING:
    from chat.core.room import ChatRoom


@implementer(IStage)
class Replay:
    """
    Sends the room's C{history} (if any) to each client that enters it;
    to a client that reads messages, the history's lines or what it missed
    from the C{record} (which the room keeps when its clients may read
    messages).
    """

    wholeLines = False

    def __init__(
        self,
        room: ChatRoom,
        history: IHistory | None,
        record: IMessageRecord | None,
    ) -> None:
        self._room = room
        self.history = history
        self._record = record

    def arrived(self, client: IClient) -> bool:
        return False

    def entered(self, client: IClient) -> None:
        room, history = self._room, self.history
        if not room.readsMessages(client):
            if history is not None:
                room.tell(client, *history.replay())
            return
        record = self._record
        assert record is not None  # a room that makes messages keeps them
        since = client.sendq.since
        if since is not None:
            self._catchUp(client, record, since)
        elif history is not None:
            said = record.last(len(history))
            room.tell(client, wire.historyStart(len(said)))
            room.tellMessages(client, said)
            room.tell(client, wire.END_OF_HISTORY)

    def _catchUp(self, client: IClient, record: IMessageRecord, since: int) -> None:
        """
        Send C{client} the messages after C{since} that were delivered to
        everyone, but its own arrival's notice (it is not sent that).  An
        id that is not of this run (the server was started again) gets all
        that is kept, not complete: those after it in its run are gone.
        """
        made = self._room.messages
        assert made is not None
        ours = made.ours(since)
        covered, missed = record.after(since if ours else made.firstId - 1)
        complete = ours and covered
        clientId = client.clientId
        missed = [message for message in missed if message.origin != clientId]
        self._room.tellMessages(client, missed, (since, complete))

    def received(
        self, client: IClient, lines: list[bytes], frame: bytes
    ) -> list[bytes] | None:
        return lines

    def left(self, client: IClient, relay: bool) -> None:
        pass

    def reload(self) -> None:
        pass
