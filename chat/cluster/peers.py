"""
The cluster as the room's peers: L{ClusterPeers}, and L{clusterPeers} to
make them for a Redis URL.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from chat.cluster.address import RedisAddress
from chat.cluster.appender import QUEUE_LIMIT, Appender
from chat.cluster.commands import NodeCommands, Retention
from chat.cluster.link import Link, RedisLink
from chat.cluster.membership import MembershipMachine, Node
from chat.cluster.presence import NODE_TTL, Presence
from chat.cluster.reader import StreamReader
from chat.core import wire
from chat.core.interfaces import IHistory, ILocalRoom, IPeers


class NoRoomError(RuntimeError):
    """The peers were used before a room was attached to them."""


@implementer(ILocalRoom)
class _NoRoom:
    """Stands for the room until one is attached: any call is a bug."""

    def _missing(self, *args: object) -> Any:
        raise NoRoomError("no room is attached to the cluster peers")

    deliverRemote = localIds = holdInput = releaseInput = expel = _missing
    deliverPrivate = deliverNumbered = numberedBefore = _missing
    keepsMessages = False


@implementer(IPeers)
class ClusterPeers:
    """
    The other nodes of a cluster, through Redis: ids from Redis, what the
    local clients say appended to the room's stream, the other nodes'
    entries read from it.  How the node stands in the cluster is
    L{chat.cluster.membership}'s state machine.
    """

    def __init__(
        self,
        room: str,
        command: Link,
        reader: Link,
        clock: IReactorTime,
        log: Logger,
        ttl: float = NODE_TTL,
        queueLimit: int = QUEUE_LIMIT,
        retention: Retention = Retention(),  # noqa: B008 (frozen)
        where: str = "Redis",
    ) -> None:
        self._room: ILocalRoom = _NoRoom()
        commands = NodeCommands(command, room, retention, log, where)
        self._appender = Appender(
            commands,
            clock,
            log,
            hold=lambda: self._room.holdInput(),
            release=lambda: self._room.releaseInput(),
            expelled=lambda: self._machine.expelled(),
            queueLimit=queueLimit,
            where=where,
        )
        self._node = Node(
            room=self._room,
            roomName=room,
            link=command,
            commands=commands,
            appender=self._appender,
            reader=StreamReader(
                reader,
                commands,
                self._appender,
                lambda data: self._room.deliverRemote(data),
                lambda clientId, data: self._room.deliverPrivate(clientId, data),
                lambda data, numbering: self._room.deliverNumbered(data, numbering),
                log,
                lambda: bool(self._room.keepsMessages),
                lambda data, numbering: self._room.numberedBefore(data, numbering),
            ),
            presence=Presence(
                commands, clock, log, lambda: self._machine.expelled(), ttl
            ),
            clock=clock,
            log=log,
            where=where,
        )
        self._machine = MembershipMachine(self._node)
        self._found: dict[int, list[int]] = {}

    numbersMessages = True
    """The stream numbers the room's messages (C{lua/stream.lua})."""

    @property
    def node(self) -> str:
        """This node's name (a new one each time it joins anew)."""
        return self._node.commands.node

    @property
    def accepting(self) -> bool:
        return self._machine.isAccepting()

    @property
    def queuedBytes(self) -> int:
        return self._appender.queued

    def attach(self, room: ILocalRoom) -> None:
        self._room = self._node.room = room

    def start(self) -> None:
        self._machine.start()

    def stop(self) -> Deferred[None]:
        return self._machine.stop()

    def join(self, account: bytes | None = None) -> Deferred[int]:
        return self._machine.join(account)

    def publish(self, data: bytes, origin: int | None = None) -> None:
        self._appender.publish(data, origin)

    def leave(self, clientId: int, notice: bytes | None = None) -> bool:
        """
        The leave notice of a client logged in to an account is Redis's to
        give, once the account's last session has left, to every node.
        """
        login = self._node.accounts.pop(clientId, None)
        if login is None:
            self._appender.leave(clientId, notice)
            return True
        if notice is None:
            # It leaves before it has entered: known by its id, unless it
            # is another session of its account, known by the account.
            account, shared = login
            notice = wire.leftAs(account) if shared else wire.left(clientId)
        self._appender.leaveSession(clientId, notice)
        return False

    def keepHistory(self, history: IHistory) -> None:
        self._node.reader.history = history

    def claim(self, clientId: int, name: bytes) -> Deferred[bool]:
        return self._node.commands.claim(clientId, name)

    def share(self, clientId: int, name: bytes) -> bool:
        """Whether Redis found, as it numbered C{clientId}, another session."""
        return self._node.accounts.get(clientId, (name, False))[1]

    def sessions(self, clientId: int) -> list[int]:
        """The sessions of C{clientId}, if L{find} just found it: Redis said."""
        return self._found.pop(clientId, [clientId])

    def find(self, name: bytes) -> Deferred[int | None]:
        def found(ids: list[int]) -> int | None:
            if not ids:
                return None
            self._found = {ids[0]: sorted(set(ids))}
            return ids[0]

        return self._node.commands.find(name).addCallback(found)

    def who(self) -> Deferred[bytes]:
        # A person's sessions have one name: it is listed once.
        listing = self._node.commands.who()
        return listing.addCallback(lambda labels: wire.who(list(dict.fromkeys(labels))))

    def tell(self, clientId: int, data: bytes) -> None:
        commands = self._node.commands
        commands.tell(clientId, data).addErrback(commands.failed)


def clusterPeers(url: str, room: str, log: Logger, reactor: Any) -> IPeers:
    """
    The peers of a node of room C{room} through the Redis server at C{url}
    (C{redis://HOST:PORT/DB}), with a connection to append and one to read.

    @raise ValueError: when C{url} is not a Redis URL.
    """
    address = RedisAddress.parse(url)
    return ClusterPeers(
        room,
        RedisLink(reactor, address),
        RedisLink(reactor, address),
        reactor,
        log,
        where=str(address),
    )
