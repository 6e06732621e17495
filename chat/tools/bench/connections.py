"""
A worker's connections: every one receives and counts, the senders also
send, and one, the probe, reads every line.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure

from chat.core import wire
from chat.tools.bench.framing import (
    PROBE_LINE,
    mayHoldNotice,
    noticeLines,
    parseRelayed,
    payload,
)
from chat.tools.notices import HistorySkipper

if TYPE_CHECKING:
    from chat.tools.bench.worker import Worker


class Receiver(Protocol):
    """
    A benchmark connection: adds up the bytes of the relayed lines it
    receives, samples the last line of each chunk.
    """

    def __init__(self, worker: Worker, index: int) -> None:
        self.worker = worker
        self.index = index
        self.relayedBytes = 0
        self.expectedBytes = 0
        self._partial = b""
        self._lastSeq: dict[int, int] = {}
        self._closing = False
        self._history = HistorySkipper()

    def connectionMade(self) -> None:
        # As chatload does: a line waits for nothing once written.
        self.transport.setTcpNoDelay(True)  # type: ignore[union-attr]
        self.worker.connected += 1

    def dataReceived(self, data: bytes) -> None:
        if not self._history.done:
            # A server with --history: what was said before is not counted.
            data = self._history.feed(data)
            if not data:
                return
        now = time.monotonic_ns()
        stats = self.worker.stats
        partial = self._partial
        last = data.rfind(b"\n")
        relayed = len(data)
        if mayHoldNotice(data) or mayHoldNotice(partial):
            # A notice's bytes count as relayed until its line is complete.
            noticeBytes, arrivals = noticeLines(partial + data[: last + 1])
            relayed -= noticeBytes
            stats.arrivals += arrivals
        self.relayedBytes += relayed
        stats.relayedBytes += relayed
        inWindow = self.worker.window.holds(now)
        if inWindow:
            stats.windowBytes += relayed
        if last < 0:
            self._partial = partial + data
            return
        self.completed(partial, data, last)
        self._partial = data[last + 1 :]
        self._sample(self._lastLine(partial, data, last), now, inWindow)

    @staticmethod
    def _lastLine(partial: bytes, data: bytes, last: int) -> bytes:
        before = data.rfind(b"\n", 0, last)
        return data[before + 1 : last] if before >= 0 else partial + data[:last]

    def _sample(self, line: bytes, now: int, inWindow: bool) -> None:
        stats = self.worker.stats
        sample = parseRelayed(line)
        if sample is None:
            if not line.startswith(wire.SERVER_PREFIX):
                stats.malformed += 1
            return
        if sample.sender == self.index:
            stats.selfEcho += 1
        if sample.seq <= self._lastSeq.get(sample.sender, -1):
            stats.orderViolations += 1
        self._lastSeq[sample.sender] = sample.seq
        if inWindow:
            stats.latenciesNs.append(now - sample.sentNs)

    def completed(self, partial: bytes, data: bytes, last: int) -> None:
        """
        C{partial + data[: last + 1]} are complete lines: only the probe
        looks at all of them.
        """

    def close(self) -> None:
        self._closing = True
        self.transport.loseConnection()  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if not self._closing:
            self.worker.stats.closedByServer += 1


class Sender(Receiver):
    """A connection that also sends."""

    def __init__(self, worker: Worker, index: int) -> None:
        super().__init__(worker, index)
        self.sent = 0

    def send(self, count: int, size: int) -> None:
        now = time.monotonic_ns()
        first = self.sent
        self.sent += count
        self.transport.write(  # type: ignore[union-attr]
            b"".join(
                payload(self.index, seq, now, size) for seq in range(first, self.sent)
            )
        )


class Probe(Receiver):
    """
    The connection whose progress the window is measured against: it parses
    every line, and knows for each sender how many of its lines arrived and
    the id the server gave it.
    """

    def __init__(self, worker: Worker, index: int) -> None:
        super().__init__(worker, index)
        self.seen: dict[int, int] = {}
        self.ids: dict[int, int] = {}

    def completed(self, partial: bytes, data: bytes, last: int) -> None:
        block = partial + data[: last + 1]
        seen, ids = self.seen, self.ids
        for clientId, sender, seq in PROBE_LINE.findall(block):
            seen[int(sender)] = int(seq) + 1
            if int(sender) not in ids:
                ids[int(sender)] = int(clientId)
        self.worker.topUp()
