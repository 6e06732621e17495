"""
The peers of a room that is the whole room: no other process shares it.
"""

from __future__ import annotations

from itertools import count

from twisted.internet.defer import Deferred, succeed
from zope.interface import implementer

from chat import wire
from chat.interfaces import IHistory, ILocalRoom, IPeers
from chat.names import nickKey


@implementer(IPeers)
class LocalPeers:
    """
    Ids from a counter, at once; nobody else to tell anything.  The nicks
    and the history of the room are kept here, in memory.

    @param firstId: the first id to hand out (a server that takes over
        clients numbered elsewhere continues their sequence).
    """

    accepting = True
    queuedBytes = 0

    def __init__(self, firstId: int = 0) -> None:
        self._ids = count(firstId)
        self._room: ILocalRoom | None = None
        self._history: IHistory | None = None
        self._holders: dict[bytes, int] = {}
        self._nicks: dict[int, bytes] = {}

    def attach(self, room: ILocalRoom) -> None:
        self._room = room

    def start(self) -> None:
        pass

    def stop(self) -> Deferred[None]:
        return succeed(None)

    def join(self) -> Deferred[int]:
        return succeed(next(self._ids))

    def publish(self, data: bytes) -> None:
        if self._history is not None:
            self._history.record(data)

    def leave(self, clientId: int, notice: bytes | None = None) -> None:
        nick = self._nicks.pop(clientId, None)
        if nick is not None:
            del self._holders[nickKey(nick)]

    def keepHistory(self, history: IHistory) -> None:
        self._history = history

    def claim(self, clientId: int, name: bytes) -> Deferred[bool]:
        key = nickKey(name)
        if self._holders.setdefault(key, clientId) != clientId:
            return succeed(False)
        old = self._nicks.get(clientId)
        if old is not None and nickKey(old) != key:
            del self._holders[nickKey(old)]
        self._nicks[clientId] = name
        return succeed(True)

    def find(self, name: bytes) -> Deferred[int | None]:
        return succeed(self._holders.get(nickKey(name)))

    def who(self) -> Deferred[list[bytes]]:
        assert self._room is not None
        nicks = self._nicks
        ids = sorted(self._room.localIds())
        return succeed([nicks.get(i) or wire.clientLabel(i) for i in ids])

    def tell(self, clientId: int, data: bytes) -> None:
        pass  # every client of the room is local: nobody else to tell
