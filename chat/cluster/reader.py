"""
Reading the stream: every entry of the other nodes, in order, from the last
one delivered, on a connection of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import txredisapi  # type: ignore[import-untyped]
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from chat.cluster.commands import NodeCommands
from chat.cluster.link import Link

READ_COUNT = 256
"""Entries one C{XREAD} returns at most."""

BLOCK_MS = 1000
"""How long one C{XREAD} waits for new entries, in milliseconds."""


def _position(entryId: bytes) -> tuple[int, int]:
    milliseconds, _, sequence = entryId.partition(b"-")
    return int(milliseconds), int(sequence or 0)


class StreamReader:
    """
    Reads, with C{XREAD BLOCK}, every entry after the last one it delivered,
    and hands the other nodes' entries, joined, to C{deliver}: this node's
    own entries its clients had at once.  After its connection was lost it
    resumes where it was, and logs how many lines it replayed once it has
    caught up.

    It reads once it knows where to start (L{startAt}) and its connection is
    up; it stops for good at L{stop}.
    """

    def __init__(
        self,
        link: Link,
        commands: NodeCommands,
        deliver: Callable[[bytes], None],
        log: Logger,
    ) -> None:
        self._link = link
        self._commands = commands
        self._deliver = deliver
        self._log = log
        self._lastId: bytes | None = None
        """The last entry delivered; None until L{startAt}."""
        self._up = False
        self._reading = False
        self._stopped = False
        self._replayed: int | None = None
        """Lines delivered since the connection came back, until caught up."""
        self._waiters: list[tuple[tuple[int, int], Deferred[None]]] = []

    def start(self, refused: Callable[[str], None]) -> None:
        """Connect."""
        self._link.start(self._connected, self._lost, refused)

    def startAt(self, entryId: bytes) -> None:
        """Deliver what comes after C{entryId}; once, when the node first joins."""
        if self._lastId is None:
            self._lastId = entryId
            self._read()

    def stop(self) -> Deferred[None]:
        """Read no more and close the connection."""
        self._stopped = True
        return self._link.stop()

    def whenRead(self, entryId: bytes) -> Deferred[None]:
        """Fires once every entry up to C{entryId} has been delivered."""
        waiting: Deferred[None] = Deferred()
        self._waiters.append((_position(entryId), waiting))
        self._wake()
        return waiting

    def _connected(self) -> None:
        self._up = True
        self._read()

    def _lost(self) -> None:
        self._up = False
        if self._replayed is None and self._lastId is not None:
            self._replayed = 0

    def _read(self) -> None:
        if self._reading or not self._up or self._lastId is None or self._stopped:
            return
        self._reading = True
        command = (b"XREAD", b"COUNT", READ_COUNT, b"BLOCK", BLOCK_MS, b"STREAMS")
        reply = self._link.execute(*command, self._commands.stream, self._lastId)
        reply.addCallbacks(self._received, self._failed)

    def _received(self, reply: list[Any] | None) -> None:
        self._reading = False
        entries = reply[0][1] if reply else []
        node = self._commands.node.encode()
        remote = []
        for _, fields in entries:
            values = dict(zip(fields[::2], fields[1::2], strict=True))
            if values[b"n"] != node:
                remote.append(values[b"d"])
        if entries:
            self._lastId = entries[-1][0]
        if remote:
            data = b"".join(remote)
            self._deliver(data)
            if self._replayed is not None:
                self._replayed += data.count(b"\n")
        if self._replayed is not None and len(entries) < READ_COUNT:
            self._log.info(
                "caught up with the cluster: replayed {lines} lines",
                category="cluster",
                lines=self._replayed,
            )
            self._replayed = None
        self._wake()
        self._read()

    def _failed(self, failure: Failure) -> None:
        self._reading = False
        if not failure.check(txredisapi.ConnectionError):
            self._log.error(
                "reading the stream failed: {error}",
                category="cluster",
                error=failure.getErrorMessage(),
            )
            self._link.reset()

    def _wake(self) -> None:
        if not self._waiters or self._lastId is None:
            return
        read = _position(self._lastId)
        due = [waiting for at, waiting in self._waiters if at <= read]
        if due:
            self._waiters = [pair for pair in self._waiters if pair[0] > read]
            for waiting in due:
                waiting.callback(None)
