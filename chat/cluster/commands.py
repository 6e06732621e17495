"""
What a node asks of Redis: one method a script, with the room's keys, the
node's name and the stream's bounds filled in, and the reply parsed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import txredisapi  # type: ignore[import-untyped]
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from chat.cluster.link import Link
from chat.cluster.scripts import (
    APPEND,
    CLAIM,
    FIND,
    HEARTBEAT,
    JOIN,
    REJOIN,
    RETIRE,
    SCRIPTS,
    TELL,
    WHO,
    Script,
)
from chat.core import wire
from chat.core.names import nickKey

RETENTION_SECONDS = 600
"""How long the stream keeps an entry: how far, in time, a node may lag."""

RETENTION_BYTES = 128 << 20
"""How many bytes of entries the stream keeps at most (the newest ones)."""

EXPELLED_FOR = 86400
"""Seconds Redis remembers that a node was buried."""


@dataclass(frozen=True)
class Retention:
    """How much of the stream Redis keeps: the newest entries, within both."""

    seconds: float = RETENTION_SECONDS
    size: int = RETENTION_BYTES


def newNodeName() -> str:
    """A name no other node has: Redis keys the node's records by it."""
    return os.urandom(6).hex()


class NodeCommands:
    """
    The scripts, as this node runs them on its command connection.

    @ivar node: the node's name; a new one after L{renew}.
    @ivar stream: the key of the room's stream.
    """

    def __init__(
        self, link: Link, room: str, retention: Retention, log: Logger, where: str
    ) -> None:
        self.node = newNodeName()
        self._link = link
        self._prefix = f"chat:{room}:".encode()
        self.stream = self._prefix + b"stream"
        self._bounds = (int(retention.seconds * 1000), retention.size)
        self._log = log
        self._where = where

    def renew(self) -> None:
        """Go on as a new node, with a name of its own."""
        self.node = newNodeName()

    def loadScripts(self) -> None:
        """Load every script on a new connection, before its first run."""
        for script in SCRIPTS:
            loading = self._link.execute(b"SCRIPT", b"LOAD", script.source)
            loading.addErrback(self.failed)

    def join(
        self, floor: int, account: bytes | None = None
    ) -> Deferred[tuple[int, bytes, bool]]:
        """
        A new client's id, above C{floor} (the highest this node has seen),
        the id of the entry to wait for (the one announcing it), and whether
        it is another session of C{account} (logged in as it), which is
        here already: it shares its name, and is not announced.
        """
        login = () if account is None else (nickKey(account), account)
        reply = self._run(JOIN, wire.ARRIVED, floor, *login)
        return reply.addCallback(
            lambda answer: (int(answer[0]), answer[1], answer[2] == 1)
        )

    def append(
        self,
        seq: int,
        data: bytes,
        origins: bytes,
        leaving: Sequence[int],
        sessions: Sequence[tuple[int, bytes]] = (),
    ) -> Deferred[int]:
        """
        Append C{data}, lines said by C{origins} (see
        L{chat.cluster.appender.encodeOrigins}), then, for each client of an
        account in C{sessions} that leaves, its leave notice if its
        account's last session left: 1 appended, 0 appended already, -1
        this node is expelled.
        """
        pairs = [part for session in sessions for part in session]
        return self._run(APPEND, seq, data, origins, len(leaving), *leaving, *pairs)

    def rejoin(
        self, ttl: float, floor: int, known: Sequence[int]
    ) -> Deferred[tuple[int, bytes]]:
        """
        Back in the cluster, with the next ids above C{floor}, the highest
        this node has seen, and its clients C{known}: the number of clients
        announced gone (-1 when this node is expelled) and the id of the
        last entry.
        """
        reply = self._run(REJOIN, _ms(ttl), wire.LEFT_AS, floor, *known)
        return reply.addCallback(lambda pair: (int(pair[0]), pair[1]))

    def heartbeat(self, ttl: float, mayBury: bool) -> Deferred[list[Any]]:
        """See C{lua/heartbeat.lua}."""
        bury = b"1" if mayBury else b"0"
        return self._run(HEARTBEAT, _ms(ttl), wire.LEFT_AS, bury, EXPELLED_FOR)

    def retire(self) -> Deferred[int]:
        """Leave the cluster: announce this node's clients on record gone."""
        return self._run(RETIRE, wire.LEFT_AS)

    def claim(self, clientId: int, name: bytes) -> Deferred[bool]:
        """Whether C{clientId} could have the nick C{name} (see C{lua/claim.lua})."""
        claimed = self._run(CLAIM, clientId, name, nickKey(name))
        return claimed.addCallback(lambda won: won == 1)

    def find(self, name: bytes) -> Deferred[list[int]]:
        """
        The id of the client whose nick looks like C{name}, then those of
        its account's sessions; none if nobody has it.
        """
        found = self._run(FIND, nickKey(name))
        return found.addCallback(lambda ids: [int(each) for each in ids])

    def who(self) -> Deferred[list[bytes]]:
        """How every client of the room is known, in id order."""
        return self._run(WHO)

    def tell(self, clientId: int, data: bytes) -> Deferred[int]:
        """Append C{data} to the stream for C{clientId} alone."""
        return self._run(TELL, clientId, data)

    def failed(self, failure: Failure) -> None:
        """
        A command failed.  A lost connection is dealt with when it is made
        again; Redis refusing a command (out of memory, scripts flushed) is
        retried on a fresh connection.
        """
        if failure.check(txredisapi.ConnectionError):
            return
        self._log.error(
            "{where} refused a command: {error}; reconnecting",
            category="cluster",
            where=self._where,
            error=failure.getErrorMessage(),
        )
        self._link.reset()

    def _run(self, script: Script, *rest: bytes | int) -> Deferred[Any]:
        args = (self._prefix, self.node.encode(), *self._bounds, *rest)
        return self._link.execute(b"EVALSHA", script.sha, 0, *args)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
