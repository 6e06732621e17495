"""
The lobby of a room: its clients from their connection, whatever door they
came through, until they are in the room.  Each waits there for the stages
that keep it out for now (a login), then for its id from the room's peers;
one handed over from another server with its id enters at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.python.failure import Failure

from chat.core import events, wire
from chat.core.addresses import describePeer, describeReason
from chat.core.admission import Place
from chat.core.gate import Hold
from chat.core.interfaces import IClient

if TYPE_CHECKING:
    from chat.core.room import ChatRoom

UNNUMBERED = -1
"""The id of a client until the room has given it one."""

CLOSE_GRACE = 5.0
"""Seconds a dismissed client gets to read its last notice before it is cut off."""


class Lobby:
    """
    The clients of a room that are not in it yet.

    @ivar waiting: those clients; each holds a place in the room.
    """

    def __init__(self, room: ChatRoom) -> None:
        self._room = room
        self.waiting: set[IClient] = set()
        self._adoptions: dict[IClient, tuple[int, bytes, bytes]] = {}

    def take(self, place: Place, client: IClient) -> None:
        """
        C{client}, just made by its door, takes C{place}: counted from now
        on as a client, though it has no id yet.
        """
        self._room.admission.take(place, client)
        self.waiting.add(client)

    def adopt(
        self, clientId: int, unread: bytes, unsent: bytes
    ) -> ServerFactory[Protocol]:
        """
        A factory for a connection that was accepted, numbered C{clientId},
        announced and logged elsewhere, and is handed over to this room
        through its door: it joins silently, C{unsent} is sent to it before
        anything else, and C{unread} is taken as if it had just been
        received.
        """
        return _Adoption(self, (clientId, unread, unsent))

    def handedOver(
        self, addr: IAddress | None, adoption: tuple[int, bytes, bytes]
    ) -> IClient:
        """The client of a connection from C{addr} handed over as C{adoption}."""
        room = self._room
        client = room.door.clientIn(room.admission.place(addr))
        self._adoptions[client] = adoption
        return client

    def join(self, client: IClient) -> None:
        """C{client} has connected: it enters once no stage keeps it out."""
        adoption = self._adoptions.pop(client, None)
        if adoption is not None:
            self._adopted(client, *adoption)
        elif not any([stage.arrived(client) for stage in self._room.stages]):
            self.admit(client)

    def admit(self, client: IClient, account: bytes | None = None) -> None:
        """
        Have C{client} numbered; it enters the room once it is.  Logged in
        as C{account}, it enters as another session of the account if the
        account is here already (L{IPeers.share}): the others are not told.
        """
        client.gate.hold(Hold.WAITING_FOR_ID)
        self._room.peers.join(account).addCallbacks(
            self._numbered,
            self._notNumbered,
            callbackArgs=(client, account),
            errbackArgs=(client,),
        )

    def _numbered(self, clientId: int, client: IClient, account: bytes | None) -> None:
        room = self._room
        if client not in self.waiting or room.closing:
            # It went away, or the server began to shut down, meanwhile.
            self.waiting.discard(client)
            room.peers.leave(clientId)
            return
        self.waiting.remove(client)
        shared = account is not None and room.peers.share(clientId, account)
        room.enter(client, clientId, sessionOf=account if shared else None)
        if shared:
            room.log.info(
                "client {clientId} is another session of {nick}",
                category="STATE",
                clientId=clientId,
                nick=client.label.decode(),
            )
        events.connected(room.log, clientId, describePeer(client.transport), client.via)
        client.gate.release(Hold.WAITING_FOR_ID)

    def _notNumbered(self, reason: Failure, client: IClient) -> None:
        if client not in self.waiting:
            return
        self.waiting.remove(client)
        self._room.metrics.turnedAway("cluster")
        self._room.log.warn(
            "turned away {peer}: no id from the cluster ({why})",
            category="STATE",
            peer=describePeer(client.transport),
            why=reason.getErrorMessage(),
        )
        client.sendq.write(wire.NO_CLUSTER)
        client.close(CLOSE_GRACE)

    def _adopted(
        self, client: IClient, clientId: int, unread: bytes, unsent: bytes
    ) -> None:
        self.waiting.remove(client)
        self._room.enter(client, clientId, new=False)
        if unsent:
            client.sendq.write(unsent)
        if unread:
            client.dataReceived(unread)

    def leave(self, client: IClient, reason: Failure) -> bool:
        """
        C{client}'s connection is gone, for C{reason}: whether it was still
        waiting here (it is forgotten, and nobody is told).
        """
        if client not in self.waiting:
            return False
        self.waiting.remove(client)
        for stage in self._room.stages:
            stage.left(client, False)
        self._room.log.info(
            "connection from {peer} closed before it had an id ({why})",
            category="STATE",
            peer=describePeer(client.transport),
            why=describeReason(reason),
        )
        return True


class _Adoption(ServerFactory[Protocol]):
    """Builds the protocol of one connection handed over to a room."""

    def __init__(self, lobby: Lobby, adoption: tuple[int, bytes, bytes]) -> None:
        self._lobby = lobby
        self._adoption = adoption

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        client = self._lobby.handedOver(addr, self._adoption)
        assert isinstance(client, Protocol)
        return client
