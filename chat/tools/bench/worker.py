"""
A worker process: a reactor with a share of the connections, driven by
the coordinator's messages.
"""

from __future__ import annotations

import math
import time
from multiprocessing.connection import Connection
from typing import Any

from twisted.internet.defer import DeferredSemaphore, gatherResults
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from chat.tools.bench.connections import Probe, Receiver, Sender
from chat.tools.bench.framing import lineLength
from chat.tools.bench.stats import ReceiverStats, Window

POLL_INTERVAL = 0.02
PROGRESS_INTERVAL = 0.25
RATE_TICK = 0.005
"""Seconds between two rounds of sending at a fixed rate."""


class Worker:
    """
    One process's share of the connections, driven by the coordinator's
    messages: C{go} (start sending at a time), C{expect} (what each sender
    sent in all).
    """

    def __init__(
        self, reactor: Any, config: dict[str, Any], indexes: list[int], pipe: Connection
    ) -> None:
        self.reactor = reactor
        self.config = config
        self.indexes = indexes
        self.pipe = pipe
        self.stats = ReceiverStats()
        self.window = Window()
        self.connections: list[Receiver] = []
        self.senders: list[Sender] = []
        self.probe: Probe | None = None
        self.sending = False
        self.connected = 0
        self._startedNs = 0
        self._cpuSeconds = 0.0
        self._expectedBytes = 0
        self._lineBytes = 1.0
        self._deadlineNs = 0
        self._stopping = False
        self._poller = LoopingCall(self._poll)
        self._poller.clock = reactor
        self._progress = LoopingCall(self._report)
        self._progress.clock = reactor
        self._rate = LoopingCall(self.topUp)
        self._rate.clock = reactor

    def start(self) -> None:
        self._poller.start(POLL_INTERVAL)
        self._progress.start(PROGRESS_INTERVAL)
        connecting = self._connectAll()
        connecting.addErrback(self._connectFailed)

    def _connectAll(self) -> Any:
        semaphore = DeferredSemaphore(self.config["connect-batch"])
        return gatherResults(
            [semaphore.run(self._connect, index) for index in self.indexes],
            consumeErrors=True,
        )

    def _target(self, index: int) -> tuple[str, int]:
        targets = self.config["targets"]
        return targets[index % len(targets)]

    def _connect(self, index: int) -> Any:
        host, port = self._target(index)
        endpoint = HostnameEndpoint(self.reactor, host, port, self.config["timeout"])
        protocol = self._protocolFor(index)
        self.connections.append(protocol)
        if self.config["ws"]:
            from chat.tools.bench.websocket import overWebSocket

            return connectProtocol(endpoint, overWebSocket(protocol, host, port))
        return connectProtocol(endpoint, protocol)

    def _protocolFor(self, index: int) -> Receiver:
        if index < self.config["senders"]:
            sender = Sender(self, index)
            self.senders.append(sender)
            return sender
        if self.probe is None:
            self.probe = Probe(self, index)
            return self.probe
        return Receiver(self, index)

    def _connectFailed(self, failure: Failure) -> None:
        first: Any = failure.value  # a FirstError: which connection, and why
        host, port = self._target(self.indexes[first.index])
        reason = first.subFailure.getErrorMessage()
        self._tell("error", f"cannot connect to {host}:{port}: {reason}")
        self._stop()

    def _poll(self) -> None:
        try:
            while self.pipe.poll():
                self._obey(*self.pipe.recv())
        except (EOFError, OSError):  # the coordinator is gone: so are we
            self._stop()

    def _obey(self, kind: str, value: Any) -> None:
        if kind == "go":
            self._go(*value)
        elif kind == "expect":
            self._expect(value)

    def _go(self, startNs: int, windowStartNs: int, windowEndNs: int) -> None:
        self.window = Window(windowStartNs, windowEndNs)
        self.reactor.callLater(_secondsUntil(startNs), self._startSending, startNs)
        self.reactor.callLater(_secondsUntil(windowStartNs), self._noteCpu)
        self.reactor.callLater(_secondsUntil(windowEndNs), self._stopSending)

    def _noteCpu(self) -> None:
        """At the start of the window, and its end: CPU used in between."""
        self._cpuSeconds = time.process_time() - self._cpuSeconds

    def _startSending(self, startNs: int) -> None:
        self.sending = True
        self._startedNs = startNs
        if self.config["rate"]:
            self._rate.start(RATE_TICK)
        else:
            self.topUp()

    def topUp(self) -> None:
        """Let every sender send what its window (and rate) allows."""
        if not self.sending or self.probe is None:
            return
        window, size, rate = (
            self.config["window"],
            self.config["size"],
            self.config["rate"],
        )
        seen = self.probe.seen
        if rate:
            due = int(rate * (time.monotonic_ns() - self._startedNs) / 1e9) + 1
        for sender in self.senders:
            room = window - (sender.sent - seen.get(sender.index, 0))
            if rate:
                room = min(room, due - sender.sent)
            if room > 0:
                sender.send(room, size)

    def _stopSending(self) -> None:
        self._noteCpu()
        self.sending = False
        if self._rate.running:
            self._rate.stop()
        self._tell("sent", {sender.index: sender.sent for sender in self.senders})

    def _expect(self, sent: dict[int, int]) -> None:
        lengths = self._lineLengths(sent)
        for connection in self.connections:
            connection.expectedBytes = sum(
                count * lengths[sender]
                for sender, count in sent.items()
                if sender != connection.index
            )
        self._expectedBytes = sum(c.expectedBytes for c in self.connections)
        total = sum(sent.values())
        self._lineBytes = sum(n * lengths[s] for s, n in sent.items()) / max(total, 1)
        self._deadlineNs = time.monotonic_ns() + int(self.config["drain"] * 1e9)
        self._poller.stop()
        self._poller = LoopingCall(self._drained)
        self._poller.clock = self.reactor
        self._poller.start(POLL_INTERVAL)

    def _lineLengths(self, sent: dict[int, int]) -> dict[int, int]:
        """
        The length of each sender's lines as received, from the ids the
        probe learned; a sender whose lines never reached the probe is
        given the longest id, the best guess left.
        """
        ids = self.probe.ids if self.probe is not None else {}
        longest = max(ids.values(), default=0)
        size = self.config["size"]
        return {sender: lineLength(ids.get(sender, longest), size) for sender in sent}

    def _drained(self) -> None:
        if (
            self.stats.relayedBytes < self._expectedBytes
            and time.monotonic_ns() < self._deadlineNs
        ):
            return
        missing = sum(
            max(0, c.expectedBytes - c.relayedBytes) for c in self.connections
        )
        extra = sum(max(0, c.relayedBytes - c.expectedBytes) for c in self.connections)
        for connection in self.connections:
            connection.close()
        self._tell(
            "result",
            {
                "stats": self.stats,
                "deliveries": round(self.stats.windowBytes / self._lineBytes),
                "lost": math.ceil(missing / self._lineBytes),
                "extra": math.ceil(extra / self._lineBytes),
                "cpu": self._cpuSeconds,
            },
        )
        self._stop()

    def _report(self) -> None:
        """Tell the coordinator how far it is, lines estimated from bytes."""
        lengths = self._lineLengths(dict.fromkeys(range(self.config["senders"]), 1))
        lineBytes = sum(lengths.values()) / len(lengths)
        relayed = round(self.stats.relayedBytes / lineBytes)
        self._tell("progress", (self.connected, self.stats.arrivals, relayed))

    def _tell(self, kind: str, value: object) -> None:
        try:
            self.pipe.send((kind, value))
        except OSError:  # the coordinator is gone: so are we
            self._stop()

    def _stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        for call in (self._poller, self._progress, self._rate):
            if call.running:
                call.stop()
        self.reactor.callLater(0, self.reactor.stop)


def _secondsUntil(whenNs: int) -> float:
    return max(0.0, (whenNs - time.monotonic_ns()) / 1e9)


def runWorker(config: dict[str, Any], indexes: list[int], pipe: Connection) -> None:
    """Entry point of a worker process: run its share until done."""
    from twisted.internet import reactor

    Worker(reactor, config, indexes, pipe).start()
    reactor.run()
