"""
The TCP door: the room's clients of the TCP (and UNIX) connections it
accepts, each given its place by the room's admission, or told why not.
"""

from __future__ import annotations

from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.internet.protocol import Protocol, ServerFactory
from zope.interface import implementer

from chat.core.admission import Place, Refusal
from chat.core.interfaces import IDoor
from chat.core.limits import TokenBucket
from chat.core.room import ChatRoom
from chat.tcp.protocol import ChatProtocol, TurnedAway


@implementer(IDoor)
class TCPDoor(ServerFactory[Protocol]):
    """The TCP door of C{room}: a protocol factory for its listeners."""

    def __init__(self, room: ChatRoom, clock: IReactorTime) -> None:
        self.room = room
        self._clock = clock

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        place = self.room.admission.arrive(addr)
        if isinstance(place, Refusal):
            return TurnedAway(place.notice)
        return self.clientIn(place)

    def clientIn(self, place: Place) -> ChatProtocol:
        return clientIn(self.room, place, self._clock)


def clientIn(room: ChatRoom, place: Place, clock: IReactorTime) -> ChatProtocol:
    """
    The client of C{room} for a connection that holds C{place}, whatever
    door it came through (a browser's is one too): its lines are read under
    the room's limits (flood control, the idle timeout) and refused whole
    when a stage reads whole lines.
    """
    client = ChatProtocol(room, room.maxLine, clock)
    client.wholeCommands = any(stage.wholeLines for stage in room.stages)
    limits = room.limits
    if limits.floodRate:
        client.bucket = TokenBucket(limits.floodRate, limits.floodBurst, clock)
    if limits.idleTimeout:
        client.setTimeout(limits.idleTimeout)
    room.lobby.take(place, client)
    return client
