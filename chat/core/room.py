"""
The room: the clients connected to this process and the broadcasts between
them.  Who may come in is its L{Admission}'s business, the clients on their
way in its L{Lobby}'s, the clients themselves their doors' (L{IDoor}); what
else they go through (logins, history, commands) its stages' (L{IStage}),
which the wiring gives it.

Broadcasts are batched per reactor iteration (L{chat.core.batch.Round}): each
client receives one C{send()} a round with everything meant for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chat.core import events, wire
from chat.core.admission import Admission
from chat.core.batch import Round
from chat.core.departures import SHUTDOWN_GRACE, Departures
from chat.core.gate import Hold
from chat.core.interfaces import (
    IClient,
    IClientHub,
    IDoor,
    ILocalRoom,
    IMessageRecord,
    IMetrics,
    IPeers,
    IStage,
)
from chat.core.limits import FloodWarnings, Limits
from chat.core.lobby import Lobby
from chat.core.messages import Message, Messages, Numbering
from chat.core.metrics import NO_METRICS
from chat.core.sendq import Chunk
from chat.core.sendqlimits import SendQLimits


@implementer(IClientHub, ILocalRoom)
class ChatRoom:
    """
    A broadcast room: every line a client sends reaches every other client.

    Who else is in the room, beyond the clients of this process, and where
    ids come from is the business of its L{IPeers}.

    @ivar clients: the connected clients by id, in the order they joined.
    @ivar peers: the room's peers.
    @ivar admission: whether a new connection has a place, at any door.
    @ivar lobby: the clients on their way in.
    @ivar departures: the clients on their way out.
    @ivar door: the door that makes the room's clients of a connection
        handed over (and its listeners' protocol factory): its TCP door,
        set by the wiring.
    @ivar stages: what the clients go through, in order, as they arrive,
        enter, send lines and leave (L{IStage}): none relays every line as
        it is.
    @ivar closing: whether the server is shutting down: nobody comes in.
    @ivar messages: in chat mode, its messages (L{recordMessages}); else L{None}.
    """

    door: IDoor

    def __init__(
        self,
        log: Logger,
        clock: IReactorTime,
        peers: IPeers,
        maxLine: int = 65536,
        limits: Limits | None = None,
        metrics: IMetrics = NO_METRICS,
    ) -> None:
        self.log = log
        self.metrics = metrics
        self.maxLine = maxLine
        self.limits = limits or Limits()
        self.peers = peers
        self.clients: dict[int, IClient] = {}
        self.stages: Sequence[IStage] = ()
        self.logRelays = True
        self.closing = False
        self._clock = clock
        self.admission = Admission(self)
        self.lobby = Lobby(self)
        self.departures = Departures(self, clock)
        self._sendqLimits = SendQLimits(self, clock)
        self._floodWarnings = FloodWarnings(log, clock)
        self._round = Round(clock, self.clients)
        self._inputHeld = False
        self.messages: Messages | None = None
        self.keepsMessages = False
        peers.attach(self)

    def recordMessages(self, record: IMessageRecord, firstId: int = 1) -> None:
        """
        Chat mode: make messages of what the room delivers, for the clients
        that read them, numbered from C{firstId}, and keep those delivered to
        everyone in C{record}.
        """
        made = Messages(self._clock, record, firstId, self.peers.numbersMessages)
        self.messages = self._round.messages = made
        self.keepsMessages = True

    # Arriving

    def join(self, client: IClient) -> None:
        self.lobby.join(client)

    def enter(
        self,
        client: IClient,
        clientId: int,
        new: bool = True,
        sessionOf: bytes | None = None,
    ) -> None:
        """
        C{client}, numbered C{clientId}, is in the room from now on.  A
        C{new} one, not one handed over, goes through the stages' entry,
        announced to the others unless it is another session of the client
        called C{sessionOf}: it is called so, and they are told nothing.
        """
        self.metrics.connected()
        client.number(clientId)
        if sessionOf is not None:
            client.rename(sessionOf)
        self._sendqLimits.watch(client)
        self._round.joined(client)
        self._round.reads(client)
        self.clients[clientId] = client
        if client.welcomed:
            self._welcome(client)
        if self._inputHeld:
            client.gate.hold(Hold.CLUSTER)
        if new:
            if sessionOf is None:
                self.post(wire.arrived(clientId), client)
            for stage in self.stages:
                stage.entered(client)

    def _welcome(self, client: IClient) -> None:
        """
        Tell C{client} its id and who is in the room, named as C{/who} names
        them: people, not sessions.
        """
        self.tell(client, wire.youAre(client.clientId))
        present = self.peers.who()
        present.addCallback(lambda listing: self.tell(client, listing))
        present.addErrback(
            lambda failure: self.log.failure(
                "who is here, for client {clientId}", failure, clientId=client.clientId
            )
        )

    # Relaying

    def relay(self, sender: IClient, lines: list[bytes]) -> None:
        if self.closing:
            return  # nothing is relayed after the shutdown notice
        frame = sender.frame(lines)
        for stage in self.stages:
            rest = stage.received(sender, lines, frame)
            if rest is None:
                return  # the stage took them over
            if rest is not lines:
                lines, frame = rest, sender.frame(rest)
        self.broadcastFrame(sender, frame, lines)

    def broadcast(self, sender: IClient, lines: list[bytes]) -> None:
        """Relay C{lines} from C{sender} to everyone else in the room."""
        self.broadcastFrame(sender, sender.frame(lines), lines)

    def broadcastFrame(self, sender: IClient, frame: bytes, lines: list[bytes]) -> None:
        """Relay C{lines} from C{sender}, framed as C{frame}, to the others."""
        self.post(frame, sender)
        self.peers.publish(frame, sender.clientId)
        self.metrics.relayed(lines, len(self.clients) - 1)
        if self.logRelays:
            events.relayed(self.log, sender.clientId, lines, len(self.clients) - 1)

    def announce(self, data: bytes, sender: IClient) -> None:
        """
        Send C{data}, lines of the server's making about C{sender} (a new
        nick, an action), to everyone else in the room.
        """
        if self.closing:
            return  # answers that come after the shutdown notice
        self.post(data, sender)
        self.peers.publish(data, sender.clientId)

    def deliverRemote(self, data: bytes) -> None:
        if not self.closing:
            self.post(data, None)
            self.metrics.deliveredRemote(data, len(self.clients))

    def throttled(self, client: IClient) -> None:
        self.metrics.throttled()
        self._floodWarnings.held(client, self.limits)

    def post(self, data: bytes, origin: IClient | None, local: bool = False) -> None:
        """Send C{data} to all but C{origin} after the round (C{local}: not peers)."""
        self._round.post(data, origin, local)

    def numberedBefore(self, data: bytes, numbering: Numbering) -> bool:
        made = self.messages
        return made is not None and made.numberedBefore(data, numbering)

    def deliverNumbered(self, data: bytes, numbering: Numbering) -> None:
        if self.messages is not None and not self.closing:
            self._round.postMessages(self.messages.numberedBy(data, numbering))

    def tell(
        self, client: IClient, *pieces: Chunk, sender: IClient | None = None
    ) -> None:
        """
        Send C{pieces} to C{client} alone, now, after what the round has
        posted for it so far; C{sender}: the client whose private message
        they are, if any.
        """
        if not self.closing:
            self._round.tell(client, pieces, sender)

    def readsMessages(self, client: IClient) -> bool:
        """Whether C{client} is sent messages rather than lines (chat mode)."""
        return self._round.isReader(client)

    def tellMessages(
        self,
        client: IClient,
        messages: list[Message],
        caughtUp: tuple[int, bool] | None = None,
    ) -> None:
        """
        Send C{messages}, made already, to C{client}, which reads messages,
        alone (see L{tell}); with C{caughtUp}, after saying from which id
        they follow and whether they are complete.
        """
        if not self.closing:
            self._round.tellMessages(client, messages, caughtUp)

    def flush(self) -> None:
        """Send what this round has posted now."""
        self._round.flush()

    # Leaving: the room's departures

    def leave(self, client: IClient, reason: Failure) -> None:
        self.departures.gone(client, reason)

    def dismiss(self, client: IClient, notice: bytes, why: str) -> None:
        self.departures.dismiss(client, notice, why)

    def expel(self) -> None:
        self.departures.expel()

    def left(self, client: IClient) -> None:
        """C{client}, in the room, has left it: it is forgotten."""
        del self.clients[client.clientId]
        self._round.forget(client)
        self.admission.vacate(client)
        self._sendqLimits.forget(client)

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
        if client is not None and not self.closing:
            self.tell(client, data)

    def reload(self) -> None:
        """Read again what an operator may have changed (the password file)."""
        for stage in self.stages:
            stage.reload()

    def shutDown(self, grace: float = SHUTDOWN_GRACE) -> Deferred[None]:
        """See L{Departures.shutDown}."""
        return self.departures.shutDown(grace)
