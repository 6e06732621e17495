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

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import count, repeat
from typing import Protocol as Interface

from twisted.internet import error
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IAddress, IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.logger import Logger
from twisted.python.failure import Failure

from chat import wire
from chat.limits import Limits, TokenBucket
from chat.outbox import Outbox
from chat.protocol import ChatProtocol, TurnedAway

SHUTDOWN_GRACE = 5.0
"""Seconds the clients get at shutdown to receive what is pending for them."""


class ChatRoom(ServerFactory[Protocol]):
    """
    A broadcast room: every line a client sends reaches every other client.

    @ivar clients: the connected clients by id, in the order they joined.
    """

    def __init__(
        self,
        log: Logger,
        clock: IReactorTime,
        maxLine: int = 65536,
        limits: Limits | None = None,
    ) -> None:
        self.log = log
        self.maxLine = maxLine
        self.limits = limits or Limits()
        self._perAddress: Counter[str] = Counter()
        self._overSoftLimit: dict[ChatProtocol, IDelayedCall] = {}
        self.clients: dict[int, ChatProtocol] = {}
        self.logRelays = True
        self._clock = clock
        self._ids: Iterator[int] = count()
        self._batch: list[tuple[ChatProtocol | None, bytes]] = []
        self._joinedAt: dict[ChatProtocol, int] = {}
        self._closing = False
        self._emptied: Deferred[None] | None = None

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
        client = ChatProtocol(self, next(self._ids), self.maxLine, self._clock)
        client.factory = self
        limits = self.limits
        if limits.floodRate:
            client.bucket = TokenBucket(
                limits.floodRate, limits.floodBurst, self._clock
            )
        if limits.idleTimeout:
            client.setTimeout(limits.idleTimeout)
        return client

    def _refusal(self, addr: IAddress | None) -> tuple[bytes, str] | None:
        """What to tell a new connection the room has no place for, and why."""
        if self._closing:
            return wire.SHUTTING_DOWN, "shutting down"
        if len(self.clients) >= self.limits.maxClients:
            return wire.SERVER_FULL, f"server full ({self.limits.maxClients} clients)"
        host = getattr(addr, "host", None)
        limit = self.limits.maxPerAddress
        if limit and host is not None and self._perAddress[host] >= limit:
            return (
                wire.TOO_MANY_FROM_ADDRESS,
                f"{limit} clients connected from {host} already",
            )
        return None

    def join(self, client: ChatProtocol) -> None:
        self._joinedAt[client] = len(self._batch)
        self._post(wire.arrived(client.clientId), client)
        self.clients[client.clientId] = client
        peer = client.transport.getPeer()  # type: ignore[union-attr]
        host = getattr(peer, "host", None)
        if host is not None:
            self._perAddress[host] += 1
        self.log.info(
            "client {clientId} connected from {peer}",
            category="STATE",
            clientId=client.clientId,
            peer=describeAddress(peer),
        )

    def relay(self, sender: ChatProtocol, lines: list[bytes]) -> None:
        self._post(sender.frame(lines), sender)
        if self.logRelays:
            self.log.info(
                "client {sender} sent {count} lines to {recipients} clients",
                category="RX",
                sender=sender.clientId,
                count=len(lines),
                recipients=len(self.clients) - 1,
                relayedLines=lines,
            )

    def leave(self, client: ChatProtocol, reason: Failure) -> None:
        if client.clientId in self.clients:
            self._depart(client)
        self.log.info(
            "client {clientId} disconnected ({why})",
            category="STATE",
            clientId=client.clientId,
            why=describeReason(reason),
        )
        if self._emptied is not None and not self.clients:
            self._emptied.callback(None)

    def dismiss(self, client: ChatProtocol, notice: bytes, why: str) -> None:
        """
        Tell C{client} C{notice}, after whatever is pending for it, and
        close its connection.
        """
        self.log.info(
            "client {clientId} dismissed: {why}",
            category="STATE",
            clientId=client.clientId,
            why=why,
        )
        self._flush()
        client.deliver(notice)
        client.transport.loseConnection()  # type: ignore[union-attr]

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

    def _depart(self, client: ChatProtocol) -> None:
        del self.clients[client.clientId]
        timer = self._overSoftLimit.pop(client, None)
        if timer is not None:
            timer.cancel()
        host = getattr(client.transport.getPeer(), "host", None)  # type: ignore[union-attr]
        if host is not None:
            self._perAddress[host] -= 1
            if not self._perAddress[host]:
                del self._perAddress[host]
        if not self._closing:
            self._post(wire.left(client.clientId), None)

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
            if client not in special:
                client.deliver(everything)
            else:
                start = joinedAt.get(client, 0)
                mine = [data for origin, data in batch[start:] if origin is not client]
                if mine:
                    client.deliver(b"".join(mine))
            if client.outbox is not None:
                backedUp.append(client)
        for client in backedUp:
            self._checkSendQ(client)

    def _checkSendQ(self, client: ChatProtocol) -> None:
        """
        Cut C{client} off if the output held for it is past the hard limit,
        or past the soft one for longer than allowed.
        """
        limits, outbox = self.limits, client.outbox
        if (
            not limits.sendqHard
            or outbox is None
            or client.clientId not in self.clients
        ):
            return
        if outbox.size > limits.sendqHard:
            self.kick(
                client,
                f"SendQ exceeded: {outbox.size} bytes pending,"
                f" hard limit {limits.sendqHard}",
            )
        elif outbox.size > limits.sendqSoft and client not in self._overSoftLimit:
            self._overSoftLimit[client] = self._clock.callLater(
                limits.sendqSoftSeconds, self._softLimitExpired, client, outbox
            )

    def _softLimitExpired(self, client: ChatProtocol, outbox: Outbox) -> None:
        """
        C{client} went past the soft limit C{sendqSoftSeconds} ago: cut it
        off unless its output has drained since.
        """
        del self._overSoftLimit[client]
        limits = self.limits
        if client.outbox is not outbox:
            # It drained since: a new period starts if it is past again.
            self._checkSendQ(client)
        elif outbox.size > limits.sendqSoft:
            self.kick(
                client,
                f"SendQ exceeded: {outbox.size} bytes pending,"
                f" past the soft limit {limits.sendqSoft}"
                f" for {limits.sendqSoftSeconds:g} s",
            )

    def shutDown(self, grace: float = SHUTDOWN_GRACE) -> Deferred[None]:
        """
        Tell every client the server is shutting down and close the
        connections once their pending output is written.

        @return: fires when every client is gone, or after C{grace} seconds
            when those still there (not reading) have been cut off.
        """
        self._closing = True
        self._post(wire.SHUTTING_DOWN, None)
        self._flush()
        for client in self.clients.values():
            client.transport.loseConnection()  # type: ignore[union-attr]
        if not self.clients:
            return succeed(None)
        self._emptied = Deferred()
        self._emptied.addTimeout(grace, self._clock, self._cutOff)
        return self._emptied

    def _cutOff(self, result: object, timeout: float) -> None:
        self.log.warn(
            "{count} clients still had output pending after {timeout} s; cut off",
            category="stop",
            count=len(self.clients),
            timeout=timeout,
        )
        self._emptied = None
        for client in list(self.clients.values()):
            client.transport.abortConnection()  # type: ignore[union-attr]


UNNUMBERED = -1
"""The id of a client of a cluster room until the cluster gives it one."""


class Bus(Interface):
    """What a L{ClusterRoom} needs from the cluster (see L{chat.cluster})."""

    ready: bool

    def join(self) -> Deferred[int]:
        """A new client's id, once it has been announced to the cluster."""

    def publish(self, data: bytes) -> None:
        """Send C{data} to the clients of the other nodes."""

    def leave(self, clientId: int) -> None:
        """Announce to the other nodes that C{clientId} has gone."""


class ClusterRoom(ChatRoom):
    """
    A room shared with the other nodes of a cluster: its clients get their
    ids from the cluster, what they send goes to the other nodes too, and
    what comes from the other nodes goes to them like a notice from the
    server, through the same batches.

    A new connection is not read from until it has its id and is announced,
    so nothing it sends can come before its arrival.  While the node is out
    of the cluster no id can be handed out, and new connections are told so
    and closed.
    """

    def __init__(
        self,
        log: Logger,
        clock: IReactorTime,
        bus: Bus,
        maxLine: int = 65536,
        limits: Limits | None = None,
    ) -> None:
        super().__init__(log, clock, maxLine, limits)
        self.bus = bus
        self._ids = repeat(UNNUMBERED)
        self._unnumbered: set[ChatProtocol] = set()

    def _refusal(self, addr: IAddress | None) -> tuple[bytes, str] | None:
        if not self.bus.ready and not self._closing:
            return wire.NO_CLUSTER, "not in the cluster"
        return super()._refusal(addr)

    def join(self, client: ChatProtocol) -> None:
        client.pauseProducing()
        self._unnumbered.add(client)
        self.bus.join().addCallbacks(
            self._numbered,
            self._notNumbered,
            callbackArgs=(client,),
            errbackArgs=(client,),
        )

    def _numbered(self, clientId: int, client: ChatProtocol) -> None:
        client.renumber(clientId)
        if client not in self._unnumbered:
            # It went away while it was being announced.
            self.bus.leave(clientId)
            return
        self._unnumbered.remove(client)
        if self._closing:
            self.bus.leave(clientId)
            client.deliver(wire.SHUTTING_DOWN)
            client.transport.loseConnection()  # type: ignore[union-attr]
            return
        super().join(client)
        client.resumeProducing()

    def _notNumbered(self, reason: Failure, client: ChatProtocol) -> None:
        if client not in self._unnumbered:
            return
        self._unnumbered.remove(client)
        self.log.warn(
            "turned away {peer}: no id from the cluster ({why})",
            category="STATE",
            peer=describeAddress(client.transport.getPeer()),  # type: ignore[union-attr]
            why=reason.getErrorMessage(),
        )
        client.deliver(wire.NO_CLUSTER)
        client.transport.loseConnection()  # type: ignore[union-attr]

    def relay(self, sender: ChatProtocol, lines: list[bytes]) -> None:
        super().relay(sender, lines)
        # The framed lines super() has just posted go to the other nodes too.
        self.bus.publish(self._batch[-1][1])

    def leave(self, client: ChatProtocol, reason: Failure) -> None:
        if client in self._unnumbered:
            self._unnumbered.remove(client)
            self.log.info(
                "connection from {peer} closed before it had an id ({why})",
                category="STATE",
                peer=describeAddress(client.transport.getPeer()),  # type: ignore[union-attr]
                why=describeReason(reason),
            )
            return
        super().leave(client, reason)

    def _depart(self, client: ChatProtocol) -> None:
        super()._depart(client)
        self.bus.leave(client.clientId)

    # What the bus calls back (chat.cluster.bus.Member)

    def deliverRemote(self, data: bytes) -> None:
        self._post(data, None)

    def localIds(self) -> Iterable[int]:
        return self.clients.keys()

    def holdInput(self) -> None:
        for client in self.clients.values():
            client.transport.pauseProducing()  # type: ignore[union-attr]

    def releaseInput(self) -> None:
        for client in self.clients.values():
            if not client.paused:  # flood control may hold it still
                client.transport.resumeProducing()  # type: ignore[union-attr]

    def expel(self) -> None:
        for client in list(self.clients.values()):
            # Not self._depart: the cluster announced its leaving already.
            ChatRoom._depart(self, client)
            client.deliver(wire.EXPELLED)
            client.transport.loseConnection()  # type: ignore[union-attr]


def describeAddress(address: IAddress) -> str:
    """
    C{address} as people write it: C{127.0.0.1:8080}, C{[::1]:8080}, or a
    UNIX socket's path.
    """
    host = getattr(address, "host", None)
    if host is None:
        name = getattr(address, "name", None)
        return os.fsdecode(name) if name else str(address)
    port = address.port  # type: ignore[attr-defined]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_REASONS = {
    # Most specific first: ConnectionAborted is a ConnectionLost.
    error.ConnectionAborted: "connection aborted by the server",
    error.ConnectionLost: "connection lost",
    error.ConnectionDone: "connection closed cleanly",
}


def describeReason(reason: Failure) -> str:
    """Why a connection ended, in a few words for the log."""
    for kind, words in _REASONS.items():
        if reason.check(kind):
            return words
    return reason.getErrorMessage()
