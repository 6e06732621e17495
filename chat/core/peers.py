"""
The peers of a room that is the whole room: no other process shares it.
"""

from __future__ import annotations

from itertools import count

from twisted.internet.defer import Deferred, succeed
from zope.interface import implementer

from chat.core import wire
from chat.core.interfaces import IHistory, ILocalRoom, IPeers
from chat.core.names import nickKey


@implementer(IPeers)
class LocalPeers:
    """
    Ids from a counter, at once; nobody else to tell anything.  The nicks
    (each with the ids of the sessions that share it, the first first) and
    the history of the room are kept here, in memory.

    The answer to C{/who} is made once and shared by every client that
    asks, until someone comes, leaves or changes names.

    @param firstId: the first id to hand out (a server that takes over
        clients numbered elsewhere continues their sequence).
    """

    accepting = True
    queuedBytes = 0

    numbersMessages = False

    def __init__(self, firstId: int = 0) -> None:
        self._ids = count(firstId)
        self._room: ILocalRoom | None = None
        self._history: IHistory | None = None
        self._holders: dict[bytes, list[int]] = {}
        self._nicks: dict[int, bytes] = {}
        self._who: tuple[int, bytes] | None = None

    def attach(self, room: ILocalRoom) -> None:
        self._room = room

    def start(self) -> None:
        pass

    def stop(self) -> Deferred[None]:
        return succeed(None)

    def join(self, account: bytes | None = None) -> Deferred[int]:
        self._who = None
        return succeed(next(self._ids))

    def publish(self, data: bytes, origin: int | None = None) -> None:
        if self._history is not None:
            self._history.record(data)

    def leave(self, clientId: int, notice: bytes | None = None) -> bool:
        self._who = None
        alone = len(self.sessions(clientId)) == 1
        nick = self._nicks.pop(clientId, None)
        if nick is not None:
            self._drop(nickKey(nick), clientId)
        return alone

    def _drop(self, key: bytes, clientId: int) -> None:
        """C{clientId} no longer holds the nick of C{key}."""
        holders = self._holders[key]
        holders.remove(clientId)
        if not holders:
            del self._holders[key]

    def keepHistory(self, history: IHistory) -> None:
        self._history = history

    def claim(self, clientId: int, name: bytes) -> Deferred[bool]:
        key = nickKey(name)
        holders = self._holders.setdefault(key, [clientId])
        if holders != [clientId]:
            return succeed(False)
        old = self._nicks.get(clientId)
        if old is not None and nickKey(old) != key:
            self._drop(nickKey(old), clientId)
        self._nicks[clientId] = name
        self._who = None
        return succeed(True)

    def share(self, clientId: int, name: bytes) -> bool:
        holders = self._holders.get(nickKey(name))
        if holders is None:
            return False
        self._nicks[clientId] = self._nicks[holders[0]]
        holders.append(clientId)
        self._who = None
        return True

    def sessions(self, clientId: int) -> list[int]:
        nick = self._nicks.get(clientId)
        if nick is None:
            return [clientId]
        return list(self._holders[nickKey(nick)])

    def find(self, name: bytes) -> Deferred[int | None]:
        holders = self._holders.get(nickKey(name))
        return succeed(holders[0] if holders else None)

    def who(self) -> Deferred[bytes]:
        assert self._room is not None
        ids = self._room.localIds()
        # Clients handed over from elsewhere enter without a join(): the
        # count tells that the answer is stale then.
        made = self._who
        if made is None or made[0] != len(ids):
            nicks = self._nicks
            labels = [nicks.get(i) or wire.clientLabel(i) for i in sorted(ids)]
            # A person's sessions have one nick: it is listed once.
            made = self._who = (len(ids), wire.who(list(dict.fromkeys(labels))))
        return succeed(made[1])

    def tell(self, clientId: int, data: bytes) -> None:
        pass  # every client of the room is local: nobody else to tell
