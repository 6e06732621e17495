"""
Connections to Redis, made again whenever they are lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import txredisapi  # type: ignore[import-untyped]
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import HostnameEndpoint
from twisted.python.failure import Failure

from chat.cluster.address import RedisAddress

REPLY_TIMEOUT = 5.0
"""Seconds without a reply after which a connection is dropped and redone."""


class Link(Protocol):
    """One connection to Redis, made again whenever it is lost."""

    def start(
        self,
        up: Callable[[], None],
        down: Callable[[], None],
        refused: Callable[[str], None],
    ) -> None:
        """
        Connect; call C{up} each time the connection is ready, C{down} each
        time it is lost, and C{refused} with the reason each time the server
        at the other end turns it down (a password needed, no such database,
        not a Redis server): it is tried again, as a lost one is.
        """

    def execute(self, *command: bytes | int) -> Deferred[Any]:
        """Send C{command}; the reply, or a L{txredisapi.ConnectionError}."""

    def reset(self) -> None:
        """Drop the connection, so that it is made anew."""

    def stop(self) -> Deferred[None]:
        """Close the connection and stop making it."""


class _Connection(txredisapi.RedisProtocol):
    """
    A connection that is ready once C{SELECT} has answered C{OK}, and that
    takes bytes that are not Redis replies for a refusal, not a crash.
    """

    factory: _Factory

    def connectionMade(self) -> None:
        selected = self.execute_command(b"SELECT", self.factory.database)
        selected.addCallbacks(self._selected, self._failed)

    def _selected(self, reply: object) -> None:
        if reply == b"OK":
            super().connectionMade()
        else:
            self._refuse(f"not a Redis server (it answered {reply!r:.60} to SELECT)")

    def _failed(self, failure: Failure) -> None:
        if failure.check(txredisapi.TimeoutError):
            self._refuse(
                f"no answer to SELECT within {REPLY_TIMEOUT:g} s; is it a Redis server?"
            )
        elif not failure.check(txredisapi.ConnectionError):
            self._refuse(failure.getErrorMessage())

    def dataReceived(self, data: bytes, unpause: bool = False) -> None:
        try:
            super().dataReceived(data, unpause)
        except txredisapi.InvalidData as garbled:
            self._refuse(f"not a Redis server ({garbled})")

    def _refuse(self, reason: str) -> None:
        self.factory.refused(reason)
        self.transport.abortConnection()


class _Factory(txredisapi.RedisFactory):
    """One connection, replies as bytes, tells its link when it is up or down."""

    protocol = _Connection
    initialDelay = 0.2
    maxDelay = 1.0
    """Short: after a Redis restart every node should be back within a
    second, well within the presence TTL, or the others would bury it."""

    def __init__(
        self,
        database: int,
        up: Callable[[], None],
        down: Callable[[], None],
        refused: Callable[[str], None],
    ) -> None:
        # No database for txredisapi: _Connection selects it itself.
        super().__init__(
            None,
            None,
            1,
            isLazy=True,
            charset=None,
            convertNumbers=False,
            replyTimeout=REPLY_TIMEOUT,
        )
        self.database = database
        self._up = up
        self._down = down
        self.refused = refused

    def addConnection(self, conn: Any) -> None:
        super().addConnection(conn)
        if conn in self.pool:
            self._up()

    def delConnection(self, conn: Any) -> None:
        super().delConnection(conn)
        self._down()


class RedisLink:
    """A L{Link} through txredisapi, which reconnects with a backoff."""

    def __init__(self, reactor: Any, address: RedisAddress) -> None:
        self._reactor = reactor
        self._address = address
        self._factory: _Factory | None = None

    def start(
        self,
        up: Callable[[], None],
        down: Callable[[], None],
        refused: Callable[[str], None],
    ) -> None:
        self._factory = _Factory(self._address.db, up, down, refused)
        endpoint = HostnameEndpoint(
            self._reactor, self._address.host, self._address.port, timeout=5
        )
        self._factory.startConnecting(endpoint)

    def _connection(self) -> Any:
        pool = self._factory.pool if self._factory is not None else []
        return pool[0] if pool else None

    def execute(self, *command: bytes | int) -> Deferred[Any]:
        connection = self._connection()
        if connection is None:
            return fail(txredisapi.ConnectionError("Not connected"))
        try:
            result: Deferred[Any] = connection.execute_command(*command)
        except txredisapi.ConnectionError as lost:
            return fail(lost)
        return result

    def reset(self) -> None:
        connection = self._connection()
        if connection is not None:
            connection.transport.abortConnection()

    def stop(self) -> Deferred[None]:
        if self._factory is None:
            return succeed(None)
        stopped: Deferred[None] = self._factory.disconnect()
        return stopped
