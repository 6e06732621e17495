"""
The peers of a room that is the whole room: no other process shares it.
"""

from __future__ import annotations

from itertools import count

from twisted.internet.defer import Deferred, succeed
from zope.interface import implementer

from chat.interfaces import ILocalRoom, IPeers


@implementer(IPeers)
class LocalPeers:
    """
    Ids from a counter, at once; nobody else to tell anything.

    @param firstId: the first id to hand out (a server that takes over
        clients numbered elsewhere continues their sequence).
    """

    accepting = True
    queuedBytes = 0

    def __init__(self, firstId: int = 0) -> None:
        self._ids = count(firstId)

    def attach(self, room: ILocalRoom) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> Deferred[None]:
        return succeed(None)

    def join(self) -> Deferred[int]:
        return succeed(next(self._ids))

    def publish(self, data: bytes) -> None:
        pass

    def leave(self, clientId: int) -> None:
        pass
