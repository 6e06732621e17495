"""
Reading the stream: every entry of the other nodes, in order, from the last
one delivered, on a connection of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import txredisapi  # type: ignore[import-untyped]
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from chat.cluster.appender import Appender, decodeOrigins
from chat.cluster.commands import NodeCommands
from chat.cluster.link import Link
from chat.core.interfaces import IHistory
from chat.core.messages import Numbering

READ_COUNT = 256
"""Entries one C{XREAD} returns at most."""

BLOCK_MS = 1000
"""How long one C{XREAD} waits for new entries, in milliseconds."""


def _fields(fields: list[bytes]) -> dict[bytes, bytes]:
    """An entry's fields, from Redis' flat list of names and values."""
    return dict(zip(fields[::2], fields[1::2], strict=True))


def _position(entryId: bytes) -> tuple[int, int]:
    milliseconds, _, sequence = entryId.partition(b"-")
    return int(milliseconds), int(sequence or 0)


class Entry(NamedTuple):
    """
    An entry of the stream: its C{data}, the node that appended it
    (C{sender}), the client it is for alone (C{target}), the ids of its
    lines (C{numbering}) and its node's sequence number (C{seq}).
    """

    data: bytes
    sender: bytes
    target: int | None
    numbering: Numbering | None
    seq: int | None


def numberingOf(entryId: bytes, values: dict[bytes, bytes]) -> Numbering | None:
    """
    The ids of the lines of an entry for everyone, by its fields (see
    C{lua/stream.lua}); L{None} for one without them.
    """
    first = values.get(b"m")
    if first is None:
        return None
    if b"o" in values:
        origins = decodeOrigins(values[b"o"])
    elif b"i" in values:
        origins = [(int(values[b"i"]), 1)]  # an arrival: not sent to its client
    else:
        origins = []
    time = _position(entryId)[0]
    return Numbering(int(first), int(values.get(b"p", 0)), time, origins)


class StreamReader:
    """
    Reads, with C{XREAD BLOCK}, every entry after the last one it delivered,
    and hands the other nodes' entries, joined, to C{deliver}: this node's
    own entries its clients had at once.  After its connection was lost it
    resumes where it was, and logs how many lines it replayed once it has
    caught up.

    It reads once it knows where to start (L{startAt}) and its connection is
    up; it stops for good at L{stop}.

    Entries for one client alone (private messages) go to C{deliverPrivate}.
    Every entry for everyone, this node's own included, goes to
    C{deliverNumbered} with the ids the stream gave its lines, in the
    stream's order: the same messages on every node.
    With an L{IHistory} (L{keepHistory}), every entry for everyone, this
    node's own included, is recorded in it in the stream's order: the same
    history on every node.  Before it first reads, it fills the history
    with the last entries of the stream, and the room's messages for
    catching up if it C{keepsMessages()} (to C{numberedBefore}).  This
    node's clients had its own lines before they were in the stream: when
    a newcomer is handed over (L{whenRead}), the history records those not
    read back yet, ahead of the stream, so that the history and the live
    room meet where the newcomer enters.

    @ivar highestId: the highest client id seen in the stream (arrivals and
        private entries), -1 before any.
    """

    history: IHistory | None = None

    def __init__(
        self,
        link: Link,
        commands: NodeCommands,
        appender: Appender,
        deliver: Callable[[bytes], None],
        deliverPrivate: Callable[[int, bytes], None],
        deliverNumbered: Callable[[bytes, Numbering], None],
        log: Logger,
        keepsMessages: Callable[[], bool] = lambda: False,
        numberedBefore: Callable[[bytes, Numbering], bool] = lambda data, n: False,
    ) -> None:
        self._link = link
        self._commands = commands
        self._appender = appender
        self._deliver = deliver
        self._deliverPrivate = deliverPrivate
        self._deliverNumbered = deliverNumbered
        self._keepsMessages = keepsMessages
        self._numberedBefore = numberedBefore
        self._log = log
        self._lastId: bytes | None = None
        """The last entry delivered; None until L{startAt}."""
        self._up = False
        self._reading = False
        self._stopped = False
        self._startingAt: bytes | None = None
        """Where to start reading once the history is read back."""
        self._backFrom = b"+"
        """The newest entry not read back into the history yet."""
        self._replayed: int | None = None
        """Lines delivered since the connection came back, until caught up."""
        self._waiters: list[tuple[tuple[int, int], Deferred[None]]] = []
        self.highestId = -1

    def start(self, refused: Callable[[str], None]) -> None:
        """Connect."""
        self._link.start(self._connected, self._lost, refused)

    def startAt(self, entryId: bytes) -> None:
        """Deliver what comes after C{entryId}; once, when the node first joins."""
        if self._lastId is not None or self._startingAt is not None:
            return
        if self.history is None and not self._keepsMessages():
            self._lastId = entryId
            self._read()
        else:
            self._startingAt = self._backFrom = entryId
            self._readBack()

    def _readBack(self) -> None:
        """
        Record in the history the entries from C{_backFrom} back, newest
        first, until it is full or the stream has no more.
        """
        if not self._up:
            return  # again once connected
        command = (b"XREVRANGE", self._commands.stream, self._backFrom, b"-")
        reply = self._link.execute(*command, b"COUNT", READ_COUNT)
        reply.addCallbacks(self._readBackSome, self._failed)

    def _readBackSome(self, entries: list[Any]) -> None:
        history = self.history
        messages = self._numberedBefore if self._keepsMessages() else None
        for entryId, fields in entries:
            entry = self._entry(entryId, fields)
            if entry is None or entry.target is not None:
                continue
            if history is not None and not history.recordOlder(entry.data):
                history = None
            numbering = entry.numbering
            if messages and numbering and not messages(entry.data, numbering):
                messages = None
            if history is None and messages is None:
                break
        more = history is not None or messages is not None
        if more and len(entries) == READ_COUNT:
            self._backFrom = b"(" + entries[-1][0]
            self._readBack()
            return
        self._lastId, self._startingAt = self._startingAt, None
        self._read()

    def stop(self) -> Deferred[None]:
        """Read no more and close the connection."""
        self._stopped = True
        return self._link.stop()

    def whenRead(self, entryId: bytes) -> Deferred[None]:
        """
        Fires once every entry up to C{entryId} has been delivered, with
        the history holding every line this node's clients have had.
        """
        waiting: Deferred[None] = Deferred()
        self._waiters.append((_position(entryId), waiting))
        self._wake()
        return waiting

    def _connected(self) -> None:
        self._up = True
        if self._startingAt is not None:
            self._readBack()
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
        remote: list[bytes] = []
        everyone: list[bytes] = []
        for entryId, fields in entries:
            entry = self._entry(entryId, fields)
            if entry is None:
                continue
            data, sender = entry.data, entry.sender
            if entry.target is not None:
                if sender != node:
                    self._deliverRemote(remote)
                    self._deliverPrivate(entry.target, data)
                continue
            if entry.numbering is not None:
                self._deliverNumbered(data, entry.numbering)
            if entry.seq is None or not self._appender.readBack(sender, entry.seq):
                everyone.append(data)
            if sender != node:
                remote.append(data)
        if self.history is not None and everyone:
            self.history.record(b"".join(everyone))
        if entries:
            self._lastId = entries[-1][0]
        self._deliverRemote(remote)
        if self._replayed is not None and len(entries) < READ_COUNT:
            self._log.info(
                "caught up with the cluster: replayed {lines} lines",
                category="cluster",
                lines=self._replayed,
            )
            self._replayed = None
        self._wake()
        self._read()

    def _entry(self, entryId: bytes, fields: list[bytes]) -> Entry | None:
        """
        The entry C{entryId} of fields C{fields}; the client ids in it are
        seen.  One this node cannot read (of another version, or not of a
        node at all) is logged and skipped: the stream is read on.
        """
        try:
            values = _fields(fields)
            ids = [int(values[name]) for name in (b"i", b"t") if name in values]
            target = values.get(b"t")
            seq = values.get(b"s")
            entry = Entry(
                values[b"d"],
                values[b"n"],
                None if target is None else int(target),
                numberingOf(entryId, values),
                None if seq is None else int(seq),
            )
        except (KeyError, ValueError):
            self._log.warn(
                "skipped the stream's entry {entryId}: it is not one this node reads",
                category="cluster",
                entryId=entryId.decode(errors="replace"),
            )
            return None
        self.highestId = max([self.highestId, *ids])
        return entry

    def _deliverRemote(self, remote: list[bytes]) -> None:
        """Deliver the entries of C{remote}, joined, and empty it."""
        if remote:
            data = b"".join(remote)
            remote.clear()
            self._deliver(data)
            if self._replayed is not None:
                self._replayed += data.count(b"\n")

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
                # Each newcomer enters after what the one before it said.
                self._recordAhead()
                waiting.callback(None)

    def _recordAhead(self) -> None:
        """Record what this node's clients have had and the stream not yet."""
        if self.history is not None:
            ahead = self._appender.recordAhead()
            if ahead:
                self.history.record(ahead)
