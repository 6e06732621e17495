"""
How clients leave a room: their connection closed, dismissed with a notice
(the idle timeout), cut off (the SendQ limits), at their own request
(C{/quit}), expelled with their node, or all of them at shutdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from chat.core import events, wire
from chat.core.addresses import describeReason
from chat.core.gate import Hold
from chat.core.interfaces import IClient
from chat.core.lobby import CLOSE_GRACE, UNNUMBERED
from chat.core.text import plural

if TYPE_CHECKING:
    from chat.core.room import ChatRoom

SHUTDOWN_GRACE = 5.0
"""Seconds the clients get at shutdown to receive what is pending for them."""


class Departures:
    """The departures from one room."""

    def __init__(self, room: ChatRoom, clock: IReactorTime) -> None:
        self._room = room
        self._clock = clock
        self._emptied: Deferred[None] | None = None

    def gone(self, client: IClient, reason: Failure) -> None:
        """C{client}'s connection is gone, for C{reason}, in the room or not."""
        room = self._room
        room.admission.vacate(client)
        if not room.lobby.leave(client, reason) and client.clientId != UNNUMBERED:
            if room.clients.get(client.clientId) is client:
                self._depart(client, "shutdown" if room.closing else "closed")
            events.disconnected(room.log, client.clientId, describeReason(reason))
        if self._emptied is not None and not room.clients and not room.lobby.waiting:
            emptied, self._emptied = self._emptied, None
            emptied.callback(None)

    def dismiss(self, client: IClient, notice: bytes, why: str) -> None:
        """
        Tell C{client} C{notice}, after whatever is pending for it, and
        close its connection; it is gone for the others at once.
        """
        room = self._room
        room.log.info(
            "client {clientId} dismissed: {why}",
            category="STATE",
            clientId=client.clientId,
            why=why,
        )
        room.flush()
        if room.clients.get(client.clientId) is client:
            self._depart(client, "idle")
        client.sendq.write(notice)
        client.close(CLOSE_GRACE)

    def kick(self, client: IClient, why: str) -> None:
        """
        Cut C{client} off at once, without waiting for its output: it is
        gone for the others from now on.
        """
        self._room.log.warn(
            "client {clientId} cut off: {why}",
            category="STATE",
            clientId=client.clientId,
            why=why,
        )
        self._depart(client, "sendq")
        client.transport.abortConnection()

    def quit(self, client: IClient, why: bytes) -> None:
        """
        C{client} asked to leave (C{/quit}), saying C{why} (or not): nothing
        it sent after is relayed.
        """
        client.endInput(relay=False)
        self._depart(client, "closed", why)
        client.close(CLOSE_GRACE)

    def expel(self) -> None:
        """Every client leaves without a leave notice: see L{ILocalRoom.expel}."""
        self._room.flush()
        for client in list(self._room.clients.values()):
            self._depart(client, "kicked", announce=False)
            client.sendq.write(wire.EXPELLED)
            client.close(CLOSE_GRACE)

    def _depart(
        self,
        client: IClient,
        reason: str,
        why: bytes = b"",
        announce: bool = True,
    ) -> None:
        """
        C{client} leaves the room, for C{reason} (as the metrics label it):
        what it sent is relayed, then, with C{announce}, the others are told
        it left (saying C{why}, if it said), unless another session of the
        same person stays (L{IPeers.leave}): it has not left.  Without
        C{announce} (the peers have announced it already) nothing more of it
        is relayed.
        """
        room = self._room
        room.metrics.disconnected(reason)
        for stage in room.stages:
            stage.left(client, announce)
        dropped = client.endInput(relay=announce)
        if dropped and announce:
            room.log.warn(
                "client {clientId} left with {lines} past its flood allowance; dropped",
                category="STATE",
                clientId=client.clientId,
                lines=plural(dropped, "line"),
                count=dropped,
            )
        room.left(client)
        if not announce:
            return
        if client.nick is None and not why:
            notice = wire.left(client.clientId)
        else:
            notice = wire.leftAs(client.label, why)
        if room.peers.leave(client.clientId, notice) and not room.closing:
            room.post(notice, None)

    def shutDown(self, grace: float = SHUTDOWN_GRACE) -> Deferred[None]:
        """
        Tell every client the server is shutting down, stop reading from
        them, and close the connections once their pending output is
        written.  Nothing is relayed after the notice, partial lines
        included: the sender did not end them.

        @return: fires when every client is gone: after at most C{grace}
            seconds, when those still there (not reading) are cut off.
        """
        room = self._room
        room.closing = True
        room.post(wire.SHUTTING_DOWN, None, local=True)
        room.flush()
        for client in room.lobby.waiting:
            client.sendq.write(wire.SHUTTING_DOWN)
        for client in [*room.clients.values(), *room.lobby.waiting]:
            client.gate.hold(Hold.SHUTDOWN)
            client.close(None)
        if not room.clients and not room.lobby.waiting:
            return succeed(None)
        self._emptied = Deferred()
        self._emptied.addTimeout(grace, self._clock, self._cutOff)
        return self._emptied

    def _cutOff(self, result: object, timeout: float) -> None:
        room = self._room
        stragglers = [*room.clients.values(), *room.lobby.waiting]
        room.log.warn(
            "{count} still had output pending after {timeout} s; cut off",
            category="stop",
            count=plural(len(stragglers), "client"),
            timeout=timeout,
        )
        self._emptied = None
        for client in stragglers:
            client.transport.abortConnection()
