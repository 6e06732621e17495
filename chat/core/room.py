"""
The room: the factory that numbers the clients, holds the set of those
connected and broadcasts between them.

Broadcasts are batched per reactor iteration (L{chat.core.batch.Round}): each
client receives one C{send()} a round with everything meant for it.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IAddress, IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chat.core import events, wire
from chat.core.addresses import describeAddress, describePeer, describeReason, sourceOf
from chat.core.batch import Round
from chat.core.gate import Hold
from chat.core.interfaces import (
    IClient,
    IClientHub,
    IHistory,
    ILocalRoom,
    IMetrics,
    IPeers,
)
from chat.core.limits import FloodWarnings, Limits, TokenBucket
from chat.core.lines import TOO_LONG
from chat.core.metrics import NO_METRICS
from chat.core.sendq import Chunk
from chat.core.text import plural
from chat.people.commands import Commands
from chat.tcp.protocol import UNNUMBERED, ChatProtocol, TurnedAway

if TYPE_CHECKING:
    from chat.people.auth import Gatekeeper

SHUTDOWN_GRACE = 5.0
"""Seconds the clients get at shutdown to receive what is pending for them."""

CLOSE_GRACE = 5.0
"""Seconds a dismissed client gets to read its last notice before it is cut off."""


class Place:
    """
    A connection's place in the room, taken as it is accepted: counted
    against C{--max-clients} and, under C{host} (its source, as
    L{sourceOf} tells, or L{None}), against C{--max-per-ip}, whatever door
    it came through.
    """

    __slots__ = ("host",)

    def __init__(self, host: str | None) -> None:
        self.host = host


class Refusal(NamedTuple):
    """Why the room has no place for a new connection."""

    notice: bytes
    """What the connection is told."""
    why: str
    """What the log says."""
    reason: str
    """The reason's label in the metrics."""


@implementer(IClientHub, ILocalRoom)
class ChatRoom(ServerFactory[Protocol]):
    """
    A broadcast room: every line a client sends reaches every other client.

    Who else is in the room, beyond the clients of this process, and where
    ids come from is the business of its L{IPeers}.

    @ivar clients: the connected clients by id, in the order they joined.
    @ivar peers: the room's peers.
    @ivar history: what newcomers receive of what was said before they
        came (C{--history}), or L{None}.
    @ivar commands: the slash commands (C{--commands}), or L{None}: every
        line is relayed as it is.
    @ivar gatekeeper: who lets new connections in once they have logged in
        (C{--auth}, with C{commands}), or L{None}: they are let in at once.
    """

    def __init__(
        self,
        log: Logger,
        clock: IReactorTime,
        peers: IPeers,
        maxLine: int = 65536,
        limits: Limits | None = None,
        history: IHistory | None = None,
        commands: bool = False,
        gatekeeper: Gatekeeper | None = None,
        metrics: IMetrics = NO_METRICS,
    ) -> None:
        self.log = log
        self.metrics = metrics
        self.maxLine = maxLine
        self.limits = limits or Limits()
        self.peers = peers
        self.clients: dict[int, IClient] = {}
        self.logRelays = True
        self._clock = clock
        self._waiting: set[IClient] = set()
        self._perAddress: Counter[str] = Counter()
        self._held: set[Place] = set()
        self._overSoftLimit: dict[IClient, IDelayedCall] = {}
        self._floodWarnings = FloodWarnings(log, clock)
        self._adoptions: dict[IClient, tuple[int, bytes, bytes]] = {}
        self._round = Round(clock, self.clients)
        self._inputHeld = False
        self._closing = False
        self._emptied: Deferred[None] | None = None
        peers.attach(self)
        self.history = history
        if history is not None:
            peers.keepHistory(history)
        self.commands = Commands(self, peers, log) if commands else None
        self.gatekeeper = gatekeeper
        if gatekeeper is not None:
            gatekeeper.admit = self._admit
            gatekeeper.metrics = metrics
        self._logins: dict[IClient, tuple[bytes, list[bytes]]] = {}

    # Arriving

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        place = self.arrive(addr)
        if isinstance(place, Refusal):
            return TurnedAway(place.notice)
        return self.clientIn(place)

    def arrive(self, addr: IAddress | None) -> Place | Refusal:
        """
        A place in the room for a connection from C{addr} that was just
        accepted, at any door: it counts against the limits from now on,
        until a client takes it (L{clientIn}) or it is given back
        (L{release}).  Or, when the room has no place for it, why not
        (logged and counted as a turned-away connection).
        """
        refusal = self._refusal(addr)
        if refusal is None:
            return self._place(addr)
        self.metrics.turnedAway(refusal.reason)
        self.log.warn(
            "turned away {peer}: {why}",
            category="STATE",
            peer=describeAddress(addr) if addr else "?",
            why=refusal.why,
        )
        return refusal

    def _refusal(self, addr: IAddress | None) -> Refusal | None:
        """Why the room has no place for a new connection from C{addr}, if not."""
        if self._closing:
            return Refusal(wire.SHUTTING_DOWN, "shutting down", "shutting_down")
        if not self.peers.accepting:
            return Refusal(wire.NO_CLUSTER, "not in the cluster", "cluster")
        limit = self.limits.maxClients
        if len(self.clients) + len(self._waiting) + len(self._held) >= limit:
            return Refusal(wire.SERVER_FULL, f"server full ({limit} clients)", "full")
        host = sourceOf(addr)
        limit = self.limits.maxPerAddress
        if limit and host is not None and self._perAddress[host] >= limit:
            return Refusal(
                wire.TOO_MANY_FROM_ADDRESS,
                f"{plural(limit, 'client')} connected from {host} already",
                "per_ip",
            )
        return None

    def _place(self, addr: IAddress | None) -> Place:
        """A place for a connection from C{addr}, counted from now on."""
        place = Place(sourceOf(addr))
        if place.host is not None:
            self._perAddress[place.host] += 1
        self._held.add(place)
        return place

    def release(self, place: Place) -> None:
        """
        The connection in C{place} is gone: the place is free again, unless
        a client took it (the client gives it back as it leaves).
        """
        if place in self._held:
            self._held.remove(place)
            self._uncount(place.host)

    def clientIn(self, place: Place) -> ChatProtocol:
        """The room's client for the connection in C{place}: it takes it."""
        self._held.remove(place)
        client = ChatProtocol(self, self.maxLine, self._clock)
        client.factory = self
        client.wholeCommands = self.commands is not None
        limits = self.limits
        if limits.floodRate:
            client.bucket = TokenBucket(
                limits.floodRate, limits.floodBurst, self._clock
            )
        if limits.idleTimeout:
            client.setTimeout(limits.idleTimeout)
        client.host = place.host
        # Counted from now on as a client, though it has no id yet.
        self._waiting.add(client)
        return client

    def adopt(
        self, clientId: int, unread: bytes, unsent: bytes
    ) -> ServerFactory[Protocol]:
        """
        A factory for a connection that was accepted, numbered C{clientId},
        announced and logged elsewhere, and is handed over to this room: it
        joins silently, C{unsent} is sent to it before anything else, and
        C{unread} is taken as if it had just been received.
        """
        return _Adoption(self, clientId, unread, unsent)

    def join(self, client: IClient) -> None:
        adoption = self._adoptions.pop(client, None)
        if adoption is not None:
            self._adopted(client, *adoption)
            return
        if self.gatekeeper is not None:
            self.gatekeeper.greet(client)
            return
        self._number(client)

    def _admit(self, client: IClient, name: bytes, rest: list[bytes]) -> None:
        """
        C{client} has logged in as C{name}: it joins the room, is called
        C{name}, and C{rest}, what it sent after logging in, is relayed.
        """
        self._logins[client] = (name, rest)
        self._number(client)

    def _number(self, client: IClient) -> None:
        """Have C{client} numbered; it enters the room once it is."""
        client.gate.hold(Hold.WAITING_FOR_ID)
        self.peers.join().addCallbacks(
            self._numbered,
            self._notNumbered,
            callbackArgs=(client,),
            errbackArgs=(client,),
        )

    def _numbered(self, clientId: int, client: IClient) -> None:
        if client not in self._waiting or self._closing:
            # It went away, or the server began to shut down, meanwhile.
            self._waiting.discard(client)
            self.peers.leave(clientId)
            return
        self._enter(client, clientId)
        self._post(wire.arrived(clientId), client)
        if self.history is not None:
            self.tell(client, *self.history.replay())
        login = self._logins.pop(client, None)
        if login is not None:
            assert self.commands is not None
            self.commands.loggedIn(client, *login)
        events.connected(
            self.log,
            clientId,
            describePeer(client.transport),
            client.via,
        )
        client.gate.release(Hold.WAITING_FOR_ID)

    def _notNumbered(self, reason: Failure, client: IClient) -> None:
        if client not in self._waiting:
            return
        self._waiting.remove(client)
        self.metrics.turnedAway("cluster")
        self.log.warn(
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
        self._enter(client, clientId)
        if unsent:
            client.sendq.write(unsent)
        if unread:
            client.dataReceived(unread)

    def _enter(self, client: IClient, clientId: int) -> None:
        """C{client}, numbered C{clientId}, is in the room from now on."""
        self._waiting.remove(client)
        self.metrics.connected()
        client.number(clientId)
        limits = self.limits
        if limits.sendqHard:
            client.sendq.watch(
                min(limits.sendqSoft, limits.sendqHard),
                partial(self._checkSendQ, client),
            )
        if client.welcome is not None:
            client.welcome(list(self.clients))
        self._round.joined(client)
        self.clients[clientId] = client
        if self._inputHeld:
            client.gate.hold(Hold.CLUSTER)

    # Relaying

    def relay(self, sender: IClient, lines: list[bytes]) -> None:
        if self._closing:
            return  # nothing is relayed after the shutdown notice
        frame = sender.frame(lines)
        if self.commands is not None and _mayHoldCommands(sender, frame):
            self._runCommands(sender, lines)
        else:
            self.broadcastFrame(sender, frame, lines)

    def _runCommands(self, sender: IClient, lines: list[bytes]) -> None:
        """
        C{lines} from C{sender} may hold commands, or a login.  Before
        login, a line too long to read (L{TOO_LONG}) is a failed login,
        unless a login sent before it is being checked: it then waits
        behind that one with the lines after it.
        """
        assert self.commands is not None
        if self.gatekeeper is None or sender.clientId != UNNUMBERED:
            self.commands.received(sender, lines)
        elif TOO_LONG not in lines:
            self.gatekeeper.received(sender, lines)
        else:
            at = lines.index(TOO_LONG)
            self.gatekeeper.received(sender, lines[:at])
            if sender.clientId == UNNUMBERED:
                self.gatekeeper.tooLong(sender, lines[at:])
            else:  # it logged in at once
                self.commands.received(sender, lines[at:])

    def broadcast(self, sender: IClient, lines: list[bytes]) -> None:
        """Relay C{lines} from C{sender} to everyone else in the room."""
        self.broadcastFrame(sender, sender.frame(lines), lines)

    def broadcastFrame(self, sender: IClient, frame: bytes, lines: list[bytes]) -> None:
        """Relay C{lines} from C{sender}, framed as C{frame}, to the others."""
        self._post(frame, sender)
        self.peers.publish(frame)
        self.metrics.relayed(lines, len(self.clients) - 1)
        if self.logRelays:
            events.relayed(self.log, sender.clientId, lines, len(self.clients) - 1)

    def announce(self, data: bytes, sender: IClient) -> None:
        """
        Send C{data}, lines of the server's making about C{sender} (a new
        nick, an action), to everyone else in the room.
        """
        if self._closing:
            return  # answers that come after the shutdown notice
        self._post(data, sender)
        self.peers.publish(data)

    def deliverRemote(self, data: bytes) -> None:
        if not self._closing:
            self._post(data, None)
            self.metrics.deliveredRemote(data, len(self.clients))

    def throttled(self, client: IClient) -> None:
        self.metrics.throttled()
        self._floodWarnings.held(client, self.limits)

    def _post(self, data: bytes, origin: IClient | None) -> None:
        """Send C{data} to every client but C{origin} at the end of the round."""
        self._round.post(data, origin)

    def tell(self, client: IClient, *pieces: Chunk) -> None:
        """
        Send C{pieces} to C{client} alone, now, after what the round has
        posted for it so far.
        """
        if not self._closing:
            self._round.tell(client, pieces)

    def _flush(self) -> None:
        """Send what this round has posted now."""
        self._round.flush()

    # Limits

    def _checkSendQ(self, client: IClient) -> None:
        """
        Cut C{client} off if the output held for it is past the hard limit,
        or past the soft one for longer than allowed: its send queue asks
        after every write that leaves it past either.
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

    def _softLimitExpired(self, client: IClient, drains: int) -> None:
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

    def leave(self, client: IClient, reason: Failure) -> None:
        self._forgetHost(client)
        if client in self._waiting:
            self._waiting.remove(client)
            self._logins.pop(client, None)
            if self.gatekeeper is not None:
                self.gatekeeper.forget(client)
            self.log.info(
                "connection from {peer} closed before it had an id ({why})",
                category="STATE",
                peer=describePeer(client.transport),
                why=describeReason(reason),
            )
        elif client.clientId != UNNUMBERED:
            if self.clients.get(client.clientId) is client:
                self._depart(client, "shutdown" if self._closing else "closed")
            events.disconnected(self.log, client.clientId, describeReason(reason))
        if self._emptied is not None and not self.clients and not self._waiting:
            emptied, self._emptied = self._emptied, None
            emptied.callback(None)

    def dismiss(self, client: IClient, notice: bytes, why: str) -> None:
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
            self._depart(client, "idle")
        client.sendq.write(notice)
        client.close(CLOSE_GRACE)

    def kick(self, client: IClient, why: str) -> None:
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
        self._flush()
        for client in list(self.clients.values()):
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
        it left (saying C{why}, if it said).  Without C{announce} (the peers
        have announced it already) nothing more of it is relayed.
        """
        self.metrics.disconnected(reason)
        if self.commands is not None:
            self.commands.abandon(client, relay=announce)
        dropped = client.endInput(relay=announce)
        if dropped and announce:
            self.log.warn(
                "client {clientId} left with {lines} past its flood allowance; dropped",
                category="STATE",
                clientId=client.clientId,
                lines=plural(dropped, "line"),
                count=dropped,
            )
        del self.clients[client.clientId]
        self._forgetHost(client)
        timer = self._overSoftLimit.pop(client, None)
        if timer is not None:
            timer.cancel()
        if announce:
            if client.nick is None and not why:
                notice = wire.left(client.clientId)
            else:
                notice = wire.leftAs(client.label, why)
            if not self._closing:
                self._post(notice, None)
            self.peers.leave(client.clientId, notice)

    def _forgetHost(self, client: IClient) -> None:
        host, client.host = client.host, None
        self._uncount(host)

    def _uncount(self, host: str | None) -> None:
        """A place taken by a connection from C{host} is free again."""
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

    def deliverPrivate(self, clientId: int, data: bytes) -> None:
        client = self.clients.get(clientId)
        if client is not None and not self._closing:
            self.tell(client, data)

    def reload(self) -> None:
        """Read again what an operator may have changed: the password file."""
        if self.gatekeeper is not None:
            self.gatekeeper.reload()

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
            client.close(None)
        if not self.clients and not self._waiting:
            return succeed(None)
        self._emptied = Deferred()
        self._emptied.addTimeout(grace, self._clock, self._cutOff)
        return self._emptied

    def _cutOff(self, result: object, timeout: float) -> None:
        stragglers = [*self.clients.values(), *self._waiting]
        self.log.warn(
            "{count} still had output pending after {timeout} s; cut off",
            category="stop",
            count=plural(len(stragglers), "client"),
            timeout=timeout,
        )
        self._emptied = None
        for client in stragglers:
            client.transport.abortConnection()


def _mayHoldCommands(sender: IClient, frame: bytes) -> bool:
    """
    Whether C{frame}, lines of C{sender}, may hold commands (or a login,
    before it has an id).  A search for C{/} in the frame, built anyway,
    rules out commands in nearly every chunk with no work per line; a
    search for the prefix of a line that begins with C{/} in most others.
    """
    return sender.clientId == UNNUMBERED or (
        b"/" in frame and sender.commandMark in frame
    )


class _Adoption(ServerFactory[Protocol]):
    """Builds the protocol of one connection handed over to a room."""

    def __init__(
        self, room: ChatRoom, clientId: int, unread: bytes, unsent: bytes
    ) -> None:
        self._room = room
        self._adoption = (clientId, unread, unsent)

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        room = self._room
        client = room.clientIn(room._place(addr))
        room._adoptions[client] = self._adoption
        return client
