"""
The room: the factory that numbers the clients, holds the set of those
connected and broadcasts between them.

Broadcasts are batched per reactor iteration.  Everything posted while the
reactor handles one round of events (lines, arrival and leave notices) is
kept in order in one list, and sent once the round is over: each client
receives one C{send()} with everything meant for it.  Most clients receive
the whole batch, joined once into a single bytes object; only the clients
that posted in this round (who must not get their own lines back) and the
ones that joined during it (who must not get what came before them) need a
batch of their own.
"""

from __future__ import annotations

from collections import Counter

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IAddress, IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chat import wire
from chat.addresses import describeAddress, describePeer, describeReason
from chat.gate import Hold
from chat.interfaces import IClientHub, ILocalRoom, IPeers
from chat.limits import Limits, TokenBucket
from chat.protocol import ChatProtocol, TurnedAway

SHUTDOWN_GRACE = 5.0
"""Seconds the clients get at shutdown to receive what is pending for them."""

CLOSE_GRACE = 5.0
"""Seconds a dismissed client gets to read its last notice before it is cut off."""


@implementer(IClientHub, ILocalRoom)
class ChatRoom(ServerFactory[Protocol]):
    """
    A broadcast room: every line a client sends reaches every other client.

    Who else is in the room, beyond the clients of this process, and where
    ids come from is the business of its L{IPeers}.

    @ivar clients: the connected clients by id, in the order they joined.
    @ivar peers: the room's peers.
    """

    def __init__(
        self,
        log: Logger,
        clock: IReactorTime,
        peers: IPeers,
        maxLine: int = 65536,
        limits: Limits | None = None,
    ) -> None:
        self.log = log
        self.maxLine = maxLine
        self.limits = limits or Limits()
        self.peers = peers
        self.clients: dict[int, ChatProtocol] = {}
        self.logRelays = True
        self._clock = clock
        self._waiting: set[ChatProtocol] = set()
        self._hosts: dict[ChatProtocol, str] = {}
        self._perAddress: Counter[str] = Counter()
        self._overSoftLimit: dict[ChatProtocol, IDelayedCall] = {}
        self._adoptions: dict[ChatProtocol, tuple[int, bytes, bytes]] = {}
        self._batch: list[tuple[ChatProtocol | None, bytes]] = []
        self._joinedAt: dict[ChatProtocol, int] = {}
        self._inputHeld = False
        self._closing = False
        self._emptied: Deferred[None] | None = None
        peers.attach(self)

    # Arriving

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        refusal = self._refusal(addr)
        if refusal is not None:
            notice, why = refusal
            self.log.warn(
                "turned away {peer}: {why}",
                category="STATE",
                peer=describeAddress(addr) if addr else "?",
                why=why,
            )
            return TurnedAway(notice)
        return self._newClient(addr)

    def _refusal(self, addr: IAddress | None) -> tuple[bytes, str] | None:
        """What to tell a new connection the room has no place for, and why."""
        if self._closing:
            return wire.SHUTTING_DOWN, "shutting down"
        if not self.peers.accepting:
            return wire.NO_CLUSTER, "not in the cluster"
        limit = self.limits.maxClients
        if len(self.clients) + len(self._waiting) >= limit:
            return wire.SERVER_FULL, f"server full ({limit} clients)"
        host = getattr(addr, "host", None)
        limit = self.limits.maxPerAddress
        if limit and host is not None and self._perAddress[host] >= limit:
            return (
                wire.TOO_MANY_FROM_ADDRESS,
                f"{limit} clients connected from {host} already",
            )
        return None

    def _newClient(self, addr: IAddress | None) -> ChatProtocol:
        client = ChatProtocol(self, self.maxLine, self._clock)
        client.factory = self
        limits = self.limits
        if limits.floodRate:
            client.bucket = TokenBucket(
                limits.floodRate, limits.floodBurst, self._clock
            )
        if limits.idleTimeout:
            client.setTimeout(limits.idleTimeout)
        host = getattr(addr, "host", None)
        if host is not None:
            self._hosts[client] = host
            self._perAddress[host] += 1
        # Counted from now on, though it has no id yet.
        self._waiting.add(client)
        return client

    def adopt(
        self, clientId: int, unread: bytes, unsent: bytes
    ) -> ServerFactory[Protocol]:
        """
        A factory for a connection that was accepted, numbered C{clientId}
        and announced elsewhere, and is handed over to this room: it joins
        silently, C{unsent} is sent to it before anything else, and
        C{unread} is taken as if it had just been received.
        """
        return _Adoption(self, clientId, unread, unsent)

    def join(self, client: ChatProtocol) -> None:
        adoption = self._adoptions.pop(client, None)
        if adoption is not None:
            self._adopted(client, *adoption)
            return
        client.gate.hold(Hold.WAITING_FOR_ID)
        self.peers.join().addCallbacks(
            self._numbered,
            self._notNumbered,
            callbackArgs=(client,),
            errbackArgs=(client,),
        )

    def _numbered(self, clientId: int, client: ChatProtocol) -> None:
        if client not in self._waiting or self._closing:
            # It went away, or the server began to shut down, meanwhile.
            self._waiting.discard(client)
            self.peers.leave(clientId)
            return
        self._enter(client, clientId)
        self._post(wire.arrived(clientId), client)
        self.log.info(
            "client {clientId} connected from {peer}{via}",
            category="STATE",
            clientId=clientId,
            peer=describePeer(client.transport),  # type: ignore[arg-type]
            via=f" ({client.via})" if client.via else "",
        )
        client.gate.release(Hold.WAITING_FOR_ID)

    def _notNumbered(self, reason: Failure, client: ChatProtocol) -> None:
        if client not in self._waiting:
            return
        self._waiting.remove(client)
        self.log.warn(
            "turned away {peer}: no id from the cluster ({why})",
            category="STATE",
            peer=describePeer(client.transport),  # type: ignore[arg-type]
            why=reason.getErrorMessage(),
        )
        client.sendq.write(wire.NO_CLUSTER)
        client.close(CLOSE_GRACE)

    def _adopted(
        self, client: ChatProtocol, clientId: int, unread: bytes, unsent: bytes
    ) -> None:
        self._enter(client, clientId)
        self.log.info(
            "client {clientId} connected from {peer} (taken over)",
            category="STATE",
            clientId=clientId,
            peer=describePeer(client.transport),  # type: ignore[arg-type]
        )
        if unsent:
            client.sendq.write(unsent)
        if unread:
            client.dataReceived(unread)

    def _enter(self, client: ChatProtocol, clientId: int) -> None:
        """C{client}, numbered C{clientId}, is in the room from now on."""
        self._waiting.remove(client)
        client.number(clientId)
        if client.welcome is not None:
            client.welcome(list(self.clients))
        self._joinedAt[client] = len(self._batch)
        self.clients[clientId] = client
        if self._inputHeld:
            client.gate.hold(Hold.CLUSTER)

    # Relaying

    def relay(self, sender: ChatProtocol, lines: list[bytes]) -> None:
        if self._closing:
            return  # nothing is relayed after the shutdown notice
        frame = sender.frame(lines)
        self._post(frame, sender)
        self.peers.publish(frame)
        if self.logRelays:
            self.log.info(
                "client {sender} sent {count} lines to {recipients} clients",
                category="RX",
                sender=sender.clientId,
                count=len(lines),
                recipients=len(self.clients) - 1,
                relayedLines=lines,
            )

    def deliverRemote(self, data: bytes) -> None:
        if not self._closing:
            self._post(data, None)

    def _post(self, data: bytes, origin: ChatProtocol | None) -> None:
        """
        Send C{data} to every client but C{origin} once this reactor
        iteration is over.
        """
        if not self._batch:
            self._clock.callLater(0, self._flush)
        self._batch.append((origin, data))

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        joinedAt, self._joinedAt = self._joinedAt, {}
        if not batch:
            return
        special = {origin for origin, _ in batch}
        special.update(joinedAt)
        everything = b"".join([data for _, data in batch])
        backedUp = []
        for client in self.clients.values():
            sendq = client.sendq
            if client not in special:
                sendq.write(everything)
            else:
                start = joinedAt.get(client, 0)
                mine = [data for origin, data in batch[start:] if origin is not client]
                if mine:
                    sendq.write(b"".join(mine))
            if sendq.size:
                backedUp.append(client)
        for client in backedUp:
            self._checkSendQ(client)

    # Limits

    def _checkSendQ(self, client: ChatProtocol) -> None:
        """
        Cut C{client} off if the output held for it is past the hard limit,
        or past the soft one for longer than allowed.
        """
        limits, size = self.limits, client.sendq.size
        if not limits.sendqHard or client.clientId not in self.clients:
            return
        if size > limits.sendqHard:
            self.kick(
                client,
                f"SendQ exceeded: {size} bytes pending, hard limit {limits.sendqHard}",
            )
        elif size > limits.sendqSoft and client not in self._overSoftLimit:
            self._overSoftLimit[client] = self._clock.callLater(
                limits.sendqSoftSeconds,
                self._softLimitExpired,
                client,
                client.sendq.drains,
            )

    def _softLimitExpired(self, client: ChatProtocol, drains: int) -> None:
        """
        C{client} went past the soft limit C{sendqSoftSeconds} ago: cut it
        off unless its output has drained since.
        """
        del self._overSoftLimit[client]
        limits, sendq = self.limits, client.sendq
        if sendq.drains != drains:
            # It drained since: a new period starts if it is past again.
            self._checkSendQ(client)
        elif sendq.size > limits.sendqSoft:
            self.kick(
                client,
                f"SendQ exceeded: {sendq.size} bytes pending,"
                f" past the soft limit {limits.sendqSoft}"
                f" for {limits.sendqSoftSeconds:g} s",
            )

    # Leaving

    def leave(self, client: ChatProtocol, reason: Failure) -> None:
        self._forgetHost(client)
        if client in self._waiting:
            self._waiting.remove(client)
            self.log.info(
                "connection from {peer} closed before it had an id ({why})",
                category="STATE",
                peer=describePeer(client.transport),  # type: ignore[arg-type]
                why=describeReason(reason),
            )
        elif client.clientId != -1:
            if self.clients.get(client.clientId) is client:
                self._depart(client)
            self.log.info(
                "client {clientId} disconnected ({why})",
                category="STATE",
                clientId=client.clientId,
                why=describeReason(reason),
            )
        if self._emptied is not None and not self.clients and not self._waiting:
            emptied, self._emptied = self._emptied, None
            emptied.callback(None)

    def dismiss(self, client: ChatProtocol, notice: bytes, why: str) -> None:
        """
        Tell C{client} C{notice}, after whatever is pending for it, and
        close its connection; it is gone for the others at once.
        """
        self.log.info(
            "client {clientId} dismissed: {why}",
            category="STATE",
            clientId=client.clientId,
            why=why,
        )
        self._flush()
        if self.clients.get(client.clientId) is client:
            self._depart(client)
        client.sendq.write(notice)
        client.close(CLOSE_GRACE)

    def kick(self, client: ChatProtocol, why: str) -> None:
        """
        Cut C{client} off at once, without waiting for its output: it is
        gone for the others from now on.
        """
        self.log.warn(
            "client {clientId} cut off: {why}",
            category="STATE",
            clientId=client.clientId,
            why=why,
        )
        self._depart(client)
        client.transport.abortConnection()  # type: ignore[union-attr]

    def expel(self) -> None:
        self._flush()
        for client in list(self.clients.values()):
            self._depart(client, announce=False)
            client.sendq.write(wire.EXPELLED)
            client.close(CLOSE_GRACE)

    def _depart(self, client: ChatProtocol, announce: bool = True) -> None:
        """
        C{client} leaves the room: what it sent is relayed, then, with
        C{announce}, the others are told it left.  Without C{announce} (the
        peers have announced it already) nothing more of it is relayed.
        """
        dropped = client.endInput(relay=announce)
        if dropped and announce:
            self.log.warn(
                "client {clientId} left with {count} lines past its flood"
                " allowance; they are dropped",
                category="STATE",
                clientId=client.clientId,
                count=dropped,
            )
        del self.clients[client.clientId]
        self._forgetHost(client)
        timer = self._overSoftLimit.pop(client, None)
        if timer is not None:
            timer.cancel()
        if announce:
            if not self._closing:
                self._post(wire.left(client.clientId), None)
            self.peers.leave(client.clientId)

    def _forgetHost(self, client: ChatProtocol) -> None:
        host = self._hosts.pop(client, None)
        if host is not None:
            self._perAddress[host] -= 1
            if not self._perAddress[host]:
                del self._perAddress[host]

    # What the peers ask for

    def localIds(self) -> list[int]:
        return list(self.clients)

    def holdInput(self) -> None:
        self._inputHeld = True
        for client in self.clients.values():
            client.gate.hold(Hold.CLUSTER)

    def releaseInput(self) -> None:
        self._inputHeld = False
        for client in list(self.clients.values()):
            client.gate.release(Hold.CLUSTER)

    # Shutting down

    def shutDown(self, grace: float = SHUTDOWN_GRACE) -> Deferred[None]:
        """
        Tell every client the server is shutting down, stop reading from
        them, and close the connections once their pending output is
        written.  Nothing is relayed after the notice, partial lines
        included: the sender did not end them.

        @return: fires when every client is gone: after at most C{grace}
            seconds, when those still there (not reading) are cut off.
        """
        self._closing = True
        self._post(wire.SHUTTING_DOWN, None)
        self._flush()
        for client in self._waiting:
            client.sendq.write(wire.SHUTTING_DOWN)
        for client in [*self.clients.values(), *self._waiting]:
            client.gate.hold(Hold.SHUTDOWN)
            client.close(grace)
        if not self.clients and not self._waiting:
            return succeed(None)
        self._emptied = Deferred()
        return self._emptied


class _Adoption(ServerFactory[Protocol]):
    """Builds the protocol of one connection handed over to a room."""

    def __init__(
        self, room: ChatRoom, clientId: int, unread: bytes, unsent: bytes
    ) -> None:
        self._room = room
        self._adoption = (clientId, unread, unsent)

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        client = self._room._newClient(addr)
        self._room._adoptions[client] = self._adoption
        return client
