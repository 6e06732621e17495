"""
The seams between the parts of the server, declared once.

A room holds the clients connected to this process, whatever door they came
through: each is an L{IClient}, and talks to the room through L{IClientHub}.
Everything beyond them, who hands out ids and who else hears what they say,
is behind L{IPeers}: this process alone, or the other processes that share
the room through Redis.  The peers call the room back through L{ILocalRoom}
and keep its L{IHistory}.  In chat mode the messages it delivers are kept
in an L{IMessageRecord}, and a client that reads messages has an
L{IMessageQueue}.  What the room counts goes to L{IMetrics}.  A
door (L{IDoor}) makes the clients of the connections it accepts; the
stages (L{IStage}) are what every door's clients go through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IProtocolFactory
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chat.core.admission import Place
    from chat.core.gate import Hold
    from chat.core.messages import Message, Numbering


class ISendQueue(Interface):
    """
    All output to one client, in order: sent on when the client can take
    it, held and counted while it cannot.
    """

    size = Attribute("Bytes held for the client, exactly.")
    drains = Attribute(
        "How many times what was held has all been sent: a limit that looks"
        " at C{size} again later tells by it whether the client caught up."
    )

    def watch(
        limit: int, overLimit: Callable[[IClient], None], client: IClient
    ) -> None:
        """
        Call C{overLimit(client)} after every write that leaves more than
        C{limit} bytes held.  (One C{overLimit} serves every client: an
        idle client keeps two references, not a callable of its own.)
        """

    def write(data: bytes | memoryview) -> None:
        """
        Send C{data} after everything written before it.  C{data} is not
        copied: it must not change.
        """

    def finish() -> None:
        """Nothing more will be written: the connection is being closed."""


class IMessageQueue(ISendQueue):
    """
    The send queue of a client that reads messages (L{Message}) rather than
    lines: what it is written as bytes, whole lines, is made messages as it
    is written, and told it alone.
    """

    since = Attribute(
        "The id of the last message the client had before it came back, to"
        " catch up from, or L{None} for a newcomer."
    )

    def writeMessages(messages: Sequence[Message]) -> None:
        """
        Send C{messages}, in order.  The same list written to several
        queues in one reactor iteration (a whole round's) is made ready for
        the wire once.
        """

    def writeCaughtUp(since: int, complete: bool) -> None:
        """
        Say that the messages after C{since} follow, and whether they are
        all of them (C{complete}) or only those still kept.
        """


class IReadGate(Interface):
    """
    Whether one client's input is read: several parts of the server hold
    it, each for a reason of its own; it is read only when none does.
    """

    holds = Attribute("The reasons holding it now, together.")
    open = Attribute("Whether the input is read: no reason holds it.")

    def hold(reason: Hold) -> None:
        """Stop reading, for C{reason} (among others, maybe)."""

    def release(reason: Hold) -> None:
        """C{reason} holds no more; read again if no other one holds."""


class IClient(Interface):
    """
    One member of the room, whatever door it came through: what the room
    needs of it.  Its lines come in through L{IClientHub}; what it is sent
    goes through its L{ISendQueue}.
    """

    clientId = Attribute("Its id in the room; negative until it has one.")
    nick = Attribute("Its nick (bytes), or L{None} while it has none.")
    label = Attribute("How the others know it: its nick, or C{client N}.")
    host = Attribute(
        "The source it is counted under for the limit per address, or L{None}."
    )
    via = Attribute("The door it came through, for the log, when not plain TCP.")
    welcomed = Attribute(
        "Whether it is told, as it enters the room, its id and who is there,"
        " as C{/who} says it (a door whose clients are told them)."
    )
    sendq = Attribute("Its L{ISendQueue}: every byte it is sent goes through it.")
    gate = Attribute("Its L{IReadGate}: whether its input is read.")
    bucket = Attribute(
        "Its allowance of lines under flood control, or L{None} without it."
    )
    commandMark = Attribute(
        "Bytes found in L{frame}'s output wherever one of its lines begins"
        " with C{/}: a frame without them holds no command."
    )
    transport = Attribute(
        "Its connection's L{twisted.internet.interfaces.ITransport}: where it"
        " is, and how it is cut off."
    )
    ended = Attribute("Whether its input has ended: it is leaving.")
    buffered = Attribute("Bytes received from it and not relayed yet.")

    def number(clientId: int) -> None:
        """Give it its id."""

    def rename(nick: bytes) -> None:
        """From now on it is C{nick} to the others."""

    def frame(lines: list[bytes]) -> bytes:
        """
        The bytes every other client receives for C{lines} from it: built
        once, whatever the number of recipients.
        """

    def dataReceived(data: bytes) -> None:
        """Take C{data} as if it had just sent it (a client handed over)."""

    def endInput(relay: bool = True) -> int:
        """
        Its input ends: with C{relay}, what it sent is relayed, a partial
        line as if it had ended, as far as flood control allows; nothing
        after.  How many lines were dropped.
        """

    def close(grace: float | None) -> None:
        """
        Close its connection once what is held for it is sent, or cut it off
        after C{grace} seconds if it does not read it (L{None}: the caller
        sees to that).
        """


class IHistory(Interface):
    """
    What newcomers receive of what was said before they came: the last
    lines relayed in the room, as they were delivered.
    """

    size = Attribute("The most lines it keeps.")

    def record(data: bytes) -> None:
        """Keep the relayed lines of C{data}, whole lines, in order."""

    def recordOlder(data: bytes) -> bool:
        """
        Keep the relayed lines of C{data} as older than every line kept so
        far, as long as there is room for them: whether there is room for
        more.
        """

    def __len__() -> int:
        """How many lines it keeps."""

    def replay() -> list[bytes | memoryview]:
        """
        What a newcomer receives before the live room, in pieces shared
        with every other newcomer: they must not change.
        """


class IMessageRecord(Interface):
    """
    The messages delivered to everyone in the room (L{Message}), the last
    of them, oldest first, for clients catching up after a reconnection.
    """

    def add(messages: Sequence[Message]) -> None:
        """
        Keep C{messages}, the newest, in order; forget the oldest beyond
        the bounds.
        """

    def addOlder(messages: Sequence[Message]) -> bool:
        """
        Keep C{messages}, in order, as older than every message kept, as
        far as the bounds allow (those that do not fit are forgotten, as the
        oldest are): whether it takes older ones still.
        """

    def after(since: int) -> tuple[bool, list[Message]]:
        """
        Whether the messages kept are all those delivered after C{since}
        (none after it was forgotten), and those after it, oldest first.
        """

    def last(count: int) -> list[Message]:
        """The last C{count} lines and actions kept, oldest first: a history."""

    def __len__() -> int:
        """How many messages it keeps."""


class ILocalRoom(Interface):
    """
    The room of this process, as its peers see it.
    """

    def deliverRemote(data: bytes) -> None:
        """
        Send C{data}, complete lines and notices from other processes, to
        every local client, in the order received.
        """

    def localIds() -> list[int]:
        """The ids of the clients connected to this process, in join order."""

    def holdInput() -> None:
        """
        Stop reading from the local clients: the peers cannot take more of
        what they send for now.
        """

    def releaseInput() -> None:
        """Read from the local clients again (see L{holdInput})."""

    def expel() -> None:
        """
        Disconnect every local client without a leave notice: the peers
        have announced them gone already.
        """

    def deliverPrivate(clientId: int, data: bytes) -> None:
        """
        Send C{data}, a private message from another process, to local
        client C{clientId} alone, if it is still here.
        """

    keepsMessages = Attribute(
        "Whether the room makes messages of what it delivers (chat mode with"
        " a web door), which it keeps for catching up: the peers give it the"
        " room's last ones as it starts (L{numberedBefore})."
    )

    def numberedBefore(data: bytes, numbering: Numbering) -> bool:
        """
        C{data}, lines delivered to everyone in the whole room before those
        numbered so far, read back from the peers, newest first, before the
        first L{deliverNumbered}: keep their messages as far as the room
        keeps older ones; whether it takes more.
        """

    def deliverNumbered(data: bytes, numbering: Numbering) -> None:
        """
        C{data}, lines delivered to everyone in the whole room (this
        process's clients' included), has been numbered by the peers
        (L{IPeers.numbersMessages}), in the order of the whole room: make
        its messages, and send them to the local clients that read messages.
        """


class IPeers(Interface):
    """
    Who shares the room with this process's clients: where their ids come
    from and where what they say goes besides the local clients.
    """

    accepting = Attribute(
        "Whether a new client can be given an id now; while it is false, new"
        " connections are turned away."
    )
    queuedBytes = Attribute(
        "Bytes published and not yet taken by the peers (for the metrics)."
    )
    numbersMessages = Attribute(
        "Whether the peers number the messages of the whole room (a"
        " cluster): the room's are then made from what they deliver"
        " (L{ILocalRoom.deliverNumbered}), not from what it posts."
    )

    def attach(room: ILocalRoom) -> None:
        """Call C{room} back from now on; before L{start}."""

    def start() -> None:
        """Begin sharing the room (connect to the other processes)."""

    def stop() -> Deferred[None]:
        """Stop sharing the room, once the local clients are gone."""

    def join(account: bytes | None = None) -> Deferred[int]:
        """
        An id for a new local client, logged in as C{account} if given,
        once its arrival has been announced to the peers (unless it is
        another session of the account, L{share}) and everything before it
        has been delivered here; a failure when no id can be had.
        """

    def publish(data: bytes, origin: int | None = None) -> None:
        """
        C{data}, framed lines of local clients as the other clients receive
        them, said by client C{origin} (L{None}: the server's), goes to the
        peers, in the order published.
        """

    def leave(clientId: int, notice: bytes | None = None) -> bool:
        """
        Local client C{clientId} has gone: announce it to the peers, after
        everything it published, with C{notice} (by default
        L{chat.core.wire.left}), and free its nick, unless another of its
        sessions (L{share}) still has it.  Whether this process's clients
        are to be told C{notice} by the room: not while another session
        stays, nor when the peers tell every process, this one included,
        once the last session has left (a cluster).
        """

    # Chat for people (nicks, history, private messages): what the whole
    # room must agree on.

    def keepHistory(history: IHistory) -> None:
        """
        Keep C{history} up to date with the lines relayed in the whole
        room, in the order that every process of the room sees them, from
        now on.
        """

    def claim(clientId: int, name: bytes) -> Deferred[bool]:
        """
        Make C{name} the nick of C{clientId}, a local client, in the whole
        room, freeing its former one: whether it could be had (no other
        client has it, ignoring case).
        """

    def share(clientId: int, name: bytes) -> bool:
        """
        Make C{clientId}, a local client that has just been numbered,
        another session of the client called C{name} (an account's, with
        logins), if there is one in the room: whether it is one now.  The
        others are told nothing: it is the same person to them.  (A cluster
        decided as it numbered it, L{join}.)
        """

    def sessions(clientId: int) -> list[int]:
        """
        The ids of the clients that are one person with C{clientId}, itself
        included, in id order: C{[clientId]} unless L{share} made it one of
        several.  (A cluster knows them for the client L{find} has just
        found.)
        """

    def find(name: bytes) -> Deferred[int | None]:
        """
        The id of the client whose nick is C{name} ignoring case, if any:
        one of its sessions (L{sessions}).
        """

    def who() -> Deferred[bytes]:
        """
        The answer to C{/who} (L{chat.core.wire.who}): every client of the room
        as others see it named, in id order, a person's sessions once (at
        the first of them).
        """

    def tell(clientId: int, data: bytes) -> None:
        """Send C{data} to C{clientId} alone, a client of another process."""


class IClientHub(Interface):
    """
    The room as one client (L{IClient}) sees it.
    """

    def join(client: IClient) -> None:
        """C{client} has connected: give it an id and announce it."""

    def relay(sender: IClient, lines: list[bytes]) -> None:
        """C{sender} has sent C{lines}, without their delimiters."""

    def leave(client: IClient, reason: Failure) -> None:
        """C{client}'s connection is gone, for C{reason}."""

    def dismiss(client: IClient, notice: bytes, why: str) -> None:
        """Tell C{client} C{notice} and close its connection."""

    def throttled(client: IClient) -> None:
        """Flood control has stopped reading from C{client} for a while."""


class IMetrics(Interface):
    """
    What the room reports for the metrics: once per relayed chunk,
    connection or disconnection, never per recipient.
    """

    def connected() -> None:
        """A client was accepted and given an id."""

    def relayed(lines: list[bytes], recipients: int) -> None:
        """A client's C{lines} went to C{recipients} clients."""

    def deliveredRemote(data: bytes, recipients: int) -> None:
        """
        C{data}, lines and notices from other processes, went to
        C{recipients} local clients.
        """

    def turnedAway(reason: str) -> None:
        """A connection was turned away, for C{reason} (a TURNED_AWAY label)."""

    def disconnected(reason: str) -> None:
        """A client left the room, for C{reason} (a DISCONNECTS label)."""

    def throttled() -> None:
        """Flood control stopped reading from a client."""


class IDoor(IProtocolFactory):
    """
    A way into the room (TCP, the web): it makes the room's clients of the
    connections it accepts, each in the place the room's admission gave it,
    as the protocol factory of its listeners.
    """

    def buildProtocol(addr: IAddress | None) -> Protocol:
        """
        The protocol of a connection from C{addr} just accepted: a client in
        the place the room's admission gives it, or one that says why the
        room has none and closes.
        """

    def clientIn(place: Place) -> IClient:
        """
        The room's client for a connection that holds C{place}: it takes
        the place, and is on its way into the room.
        """


class IStage(Interface):
    """
    A stage that every door's clients go through on their way into the room
    and in it (a login, the history, the commands).  The room calls its
    stages in order; without any, it relays every line as it is.
    """

    wholeLines = Attribute(
        "Whether the stage reads lines that begin with /: with such a stage"
        " a line that begins with / (any line before the client has an id)"
        " and is longer than the maximum is refused whole, not cut."
    )

    def arrived(client: IClient) -> bool:
        """
        C{client} has connected (and was not handed over with its id):
        whether the stage keeps it out of the room for now, until it lets
        it in (L{chat.core.lobby.Lobby.admit}) or turns it away.
        """

    def entered(client: IClient) -> None:
        """C{client} is in the room, numbered, and the others were told."""

    def received(
        client: IClient, lines: list[bytes], frame: bytes
    ) -> list[bytes] | None:
        """
        C{client} sent C{lines}, framed as C{frame} (L{IClient.frame}):
        what is left of them for the next stage and then to relay
        (C{lines} itself when the stage has nothing to do with them), or
        L{None} when the stage took them over.
        """

    def left(client: IClient, relay: bool) -> None:
        """
        C{client} is leaving, from the room or before it entered: with
        C{relay}, what the stage holds of what it sent is relayed now.
        """

    def reload() -> None:
        """Read again what an operator may have changed (on SIGHUP)."""
