"""
The seams between the parts of the server, declared once.

A room (L{chat.room.ChatRoom}) holds the clients connected to this process.
Everything beyond them, who hands out ids and who else hears what they say,
is behind L{IPeers}: L{chat.peers.LocalPeers} when this process is the whole
room, L{chat.cluster} when other processes share it through Redis.  The
peers call the room back through L{ILocalRoom}; each client's connection
talks to the room through L{IClientHub}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface

if TYPE_CHECKING:
    from chat.history import History
    from chat.protocol import ChatProtocol


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

    def attach(room: ILocalRoom) -> None:
        """Call C{room} back from now on; before L{start}."""

    def start() -> None:
        """Begin sharing the room (connect to the other processes)."""

    def stop() -> Deferred[None]:
        """Stop sharing the room, once the local clients are gone."""

    def join() -> Deferred[int]:
        """
        An id for a new local client, once its arrival has been announced to
        the peers and everything before it has been delivered here; a
        failure when no id can be had.
        """

    def publish(data: bytes) -> None:
        """
        C{data}, framed lines of local clients as the other clients receive
        them, goes to the peers, in the order published.
        """

    def leave(clientId: int, notice: bytes | None = None) -> None:
        """
        Local client C{clientId} has gone: announce it to the peers, after
        everything it published, with C{notice} (by default
        L{chat.wire.left}), and free its nick.
        """

    # Chat for people (SPEC section 9): what the whole room must agree on.

    def keepHistory(history: History) -> None:
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

    def find(name: bytes) -> Deferred[int | None]:
        """The id of the client whose nick is C{name} ignoring case, if any."""

    def who() -> Deferred[bytes]:
        """
        The answer to C{/who} (L{chat.wire.who}): every client of the room
        as others see it named, in id order.
        """

    def tell(clientId: int, data: bytes) -> None:
        """Send C{data} to C{clientId} alone, a client of another process."""


class IClientHub(Interface):
    """
    The room as one client's connection (L{chat.protocol.ChatProtocol})
    sees it.
    """

    def join(client: ChatProtocol) -> None:
        """C{client} has connected: give it an id and announce it."""

    def relay(sender: ChatProtocol, lines: list[bytes]) -> None:
        """C{sender} has sent C{lines}, without their delimiters."""

    def leave(client: ChatProtocol, reason: Failure) -> None:
        """C{client}'s connection is gone, for C{reason}."""

    def dismiss(client: ChatProtocol, notice: bytes, why: str) -> None:
        """Tell C{client} C{notice} and close its connection."""

    def throttled(client: ChatProtocol) -> None:
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
