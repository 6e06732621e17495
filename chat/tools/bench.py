"""
C{chat-bench}: a load generator for chat servers that speak the mini_serv
protocol, in the spirit of C{redis-benchmark}.

N connections, the first S of which send lines of B bytes, either at a
rate or flat out with at most a window of lines in flight per sender; after
a warm-up, deliveries are counted for a measurement window, then the
senders stop and every receiver must get every line within a drain time.

Each line is C{"<sender> <seq> <send time ns> "} padded with C{x}, as the
benchmark kit's chatload writes it.  To keep up with a server that
delivers millions of lines a second, a receiver does not look at every
line, nor even count them.  A relayed line from a sender is always
C{client ID: } plus its payload and newline, so its length is known once
the sender's id is; a receiver adds up the bytes it receives, less those
of server notices (found with a single-byte search, see L{noticeLines}),
and turns bytes into lines at the end.  It parses only the last complete
line of each chunk, which gives a latency sample and a sequence number to
check the order per (receiver, sender) against.  Losses are checked
exactly at the end: every receiver must have received, to the byte, every
line of every other sender.  One connection per worker, the probe, parses
every line: it learns the senders' ids, and its progress is what the
senders' windows are measured against.

The work can be shared by several processes (C{--workers}), each with a
share of the connections and its own reactor; a coordinator, without a
reactor, starts them, tells them when to start sending and what to
expect, and merges their results.  Connections are spread over the
C{--target} servers in turn, taken to be nodes of one room (a cluster).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import re
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, NoReturn

from twisted.internet.defer import DeferredSemaphore, gatherResults
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.task import LoopingCall
from twisted.python import usage
from twisted.python.failure import Failure

from chat import wire
from chat.tools.cli import parseCommandLine

PROGRAM = "chat-bench"
NOTICE = b"server: "
ARRIVED = b" just arrived"
PROBE_LINE = re.compile(rb"client (\d+): (\d+) (\d+) ")
START_MARGIN_NS = 100_000_000
"""How far ahead of now the coordinator sets the common start."""
POLL_INTERVAL = 0.02
PROGRESS_INTERVAL = 0.25
RATE_SPAN = 1.0
"""Seconds over which the live progress line averages the rate."""
RATE_TICK = 0.005
"""Seconds between two rounds of sending at a fixed rate."""


class Options(usage.Options):
    synopsis = "Usage: chat-bench [options]"
    longdesc = (
        "A load generator for chat servers that speak the mini_serv protocol: "
        "N connections, S senders, lines of B bytes at a rate or flat out; "
        "reports deliveries per second, latency percentiles, lost lines and "
        "order violations."
    )
    optParameters = [
        ["clients", "c", "100", "Connections."],
        ["senders", "s", "10", "Connections that send (the first S)."],
        ["size", "b", "64", "Bytes per line, without the newline (at least 40)."],
        ["rate", "r", "0", "Lines/s per sender; 0 = flat out, limited by --window."],
        ["window", "w", "64", "Lines each sender may have in flight."],
        ["duration", "d", "5", "Seconds measured."],
        ["warmup", None, "1", "Seconds of sending before the measurement."],
        ["drain", None, "5", "Seconds allowed after it for every line to arrive."],
        ["workers", "j", "1", "Processes to share the connections."],
        ["connect-batch", None, "32", "Connections being opened at once per worker."],
        ["timeout", None, "60", "Seconds allowed to connect and settle."],
    ]
    optFlags = [["json", None, "Print the report as JSON."]]

    def __init__(self) -> None:
        super().__init__()
        self["targets"] = []

    def opt_target(self, target: str) -> None:
        """
        A server as HOST:PORT (default 127.0.0.1:8080); repeatable: connections are spread over the targets, which must be nodes of one room.
        """  # noqa: E501 (usage.Options folds the docstring into one paragraph)
        host, _, port = target.rpartition(":")
        if not host or not _isPort(port):
            raise usage.UsageError(f"--target: {target!r} is not HOST:PORT")
        self["targets"].append((host.strip("[]"), int(port)))

    def postOptions(self) -> None:
        self["targets"] = self["targets"] or [("127.0.0.1", 8080)]
        for name, kind, least in [
            ("clients", int, 2),
            ("senders", int, 1),
            ("size", int, 40),
            ("rate", float, 0),
            ("window", int, 1),
            ("duration", float, 0.1),
            ("warmup", float, 0),
            ("drain", float, 0),
            ("workers", int, 1),
            ("connect-batch", int, 1),
            ("timeout", float, 1),
        ]:
            self[name] = _atLeast(name, self[name], kind, least)
        if self["clients"] - self["senders"] < self["workers"]:
            raise usage.UsageError(
                "--clients must exceed --senders by at least --workers "
                "(each worker needs a connection that only receives)"
            )


def _isPort(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) <= 65535


def _atLeast(name: str, text: str, kind: Any, least: float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not value >= least or math.isinf(value):
        raise usage.UsageError(f"--{name}: {text!r} is not a number >= {least}")
    return value


# The payload and the statistics: plain functions, no reactor.


def payload(sender: int, seq: int, sentNs: int, size: int) -> bytes:
    """One line of C{size} bytes (and its newline) from C{sender}."""
    head = b"%d %d %d " % (sender, seq, sentNs)
    return head + b"x" * (size - len(head)) + b"\n"


@dataclass
class Sample:
    """What the last line of a received chunk says."""

    sender: int
    seq: int
    sentNs: int


def parseRelayed(line: bytes) -> Sample | None:
    """
    C{line} (without its newline) as C{client ID: SENDER SEQ TIME xxx}, or
    None if it is not a relayed benchmark line.
    """
    if not line.startswith(b"client "):
        return None
    _, separator, text = line.partition(b": ")
    fields = text.split(b" ", 3)
    if not separator or len(fields) < 4:
        return None
    try:
        return Sample(int(fields[0]), int(fields[1]), int(fields[2]))
    except ValueError:
        return None


def noticeLines(block: bytes) -> tuple[int, int]:
    """
    The bytes of the server notices among the complete lines C{block}, and
    how many of them are arrival notices.
    """
    noticeBytes = arrivals = 0
    for line in block.split(b"\n")[:-1]:
        if line.startswith(NOTICE):
            noticeBytes += len(line) + 1
            arrivals += line.endswith(ARRIVED)
    return noticeBytes, arrivals


def mayHoldNotice(data: bytes) -> bool:
    """
    Relayed benchmark lines never contain a C{v} (the prefix is
    C{client N: }, the payload digits, spaces and C{x}) while every notice
    does (C{server: }): a single-byte search, at memory speed, rules out
    nearly every chunk.
    """
    return b"v" in data


def lineLength(clientId: int, size: int) -> int:
    """The bytes a receiver gets for one line of C{size} from C{clientId}."""
    return len(wire.linePrefix(clientId)) + size + 1


def percentile(ordered: list[int], fraction: float) -> int:
    """The nearest-rank C{fraction} percentile of the sorted C{ordered}."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class ReceiverStats:
    """What one worker's receivers have counted."""

    relayedBytes: int = 0
    windowBytes: int = 0
    arrivals: int = 0
    orderViolations: int = 0
    selfEcho: int = 0
    malformed: int = 0
    closedByServer: int = 0
    latenciesNs: list[int] = field(default_factory=list)


@dataclass
class Window:
    """The measurement window, in C{time.monotonic_ns()} nanoseconds."""

    start: int = 0
    end: int = 0

    def holds(self, now: int) -> bool:
        return self.start <= now < self.end


# The worker: a reactor with a share of the connections.


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

    def connectionMade(self) -> None:
        # As chatload does: a line waits for nothing once written.
        self.transport.setTcpNoDelay(True)  # type: ignore[union-attr]
        self.worker.connected += 1

    def dataReceived(self, data: bytes) -> None:
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
            if not line.startswith(NOTICE):
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


# The coordinator: starts the workers, keeps them in step, merges results.


class BenchError(Exception):
    """The run could not be completed; the message says why."""


class Coordinator:
    """
    Runs the benchmark that C{options} describe with its workers, and
    returns the merged report.
    """

    def __init__(self, options: Options, showProgress: bool) -> None:
        self.options = options
        self.showProgress = showProgress
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        self.progress: dict[int, tuple[int, int, int]] = {}

    def run(self) -> dict[str, Any]:
        try:
            self._startWorkers()
            settleSeconds = self._settle()
            sent, window = self._measure()
            results = self._drain(sent)
        finally:
            self._stopWorkers()
        return report(self.options, sent, window, results, settleSeconds)

    def _startWorkers(self) -> None:
        context = multiprocessing.get_context("spawn")
        options = self.options
        config = {key: options[key] for key in WORKER_CONFIG}
        workers = options["workers"]
        for share in range(workers):
            indexes = list(range(share, options["clients"], workers))
            mine, theirs = context.Pipe()
            process = context.Process(
                target=runWorker, args=(config, indexes, theirs), daemon=True
            )
            process.start()
            theirs.close()
            self.pipes.append(mine)
            self.processes.append(process)

    def _settle(self) -> float:
        """Wait until all are connected and have heard every arrival."""
        clients = self.options["clients"]
        notices = clients * (clients - 1) // 2
        started = time.monotonic()

        def settled() -> bool:
            connected = sum(p[0] for p in self.progress.values())
            arrivals = sum(p[1] for p in self.progress.values())
            self._show(
                f"connecting: {connected}/{clients} connected, "
                f"{arrivals}/{notices} arrival notices"
            )
            return connected == clients and arrivals >= notices

        self._receiveUntil(settled, started + self.options["timeout"], "settle")
        return time.monotonic() - started

    def _measure(self) -> tuple[dict[int, int], float]:
        options = self.options
        startNs = time.monotonic_ns() + START_MARGIN_NS
        windowStartNs = startNs + int(options["warmup"] * 1e9)
        windowEndNs = windowStartNs + int(options["duration"] * 1e9)
        self._tellAll("go", (startNs, windowStartNs, windowEndNs))
        sent: dict[int, int] = {}
        reported: list[int] = []
        history = [(time.monotonic(), self._relayed())]

        def allSent() -> bool:
            now = time.monotonic()
            history.append((now, self._relayed()))
            while len(history) > 2 and now - history[1][0] >= RATE_SPAN:
                del history[0]
            (then, before), (_, after) = history[0], history[-1]
            rate = (after - before) / max(now - then, 1e-9)
            elapsed = (time.monotonic_ns() - windowStartNs) / 1e9
            phase = f"measuring {elapsed:.1f} s" if elapsed >= 0 else "warm-up"
            self._show(f"{phase}: {rate:,.0f} deliveries/s")
            return len(reported) == len(self.pipes)

        def onSent(worker: int, value: dict[int, int]) -> None:
            sent.update(value)
            reported.append(worker)

        deadline = windowEndNs / 1e9 + self.options["timeout"]
        self._receiveUntil(allSent, deadline, "the end of sending", {"sent": onSent})
        return sent, (windowEndNs - windowStartNs) / 1e9

    def _drain(self, sent: dict[int, int]) -> list[dict[str, Any]]:
        self._tellAll("expect", sent)
        results: list[dict[str, Any]] = []
        self._show("draining")
        deadline = time.monotonic() + self.options["drain"] + self.options["timeout"]
        self._receiveUntil(
            lambda: len(results) == len(self.pipes),
            deadline,
            "the results",
            {"result": lambda worker, value: results.append(value)},
        )
        self._show("")
        return results

    def _receiveUntil(
        self,
        done: Any,
        deadline: float,
        what: str,
        handlers: dict[str, Any] | None = None,
    ) -> None:
        """
        Handle the workers' messages until C{done()} or the C{deadline}
        (C{time.monotonic()} seconds).
        """
        handlers = {"progress": self._onProgress, "error": _onError, **(handlers or {})}
        while not done():
            if time.monotonic() > deadline:
                raise BenchError(f"timed out waiting for {what}")
            ready = wait(self.pipes, timeout=PROGRESS_INTERVAL)
            for worker, pipe in enumerate(self.pipes):
                if pipe not in ready:
                    continue
                try:
                    kind, value = pipe.recv()
                except EOFError:
                    raise BenchError(f"worker {worker} died") from None
                handlers[kind](worker, value)

    def _onProgress(self, worker: int, value: tuple[int, int, int]) -> None:
        self.progress[worker] = value

    def _relayed(self) -> int:
        return sum(p[2] for p in self.progress.values())

    def _tellAll(self, kind: str, value: object) -> None:
        for pipe in self.pipes:
            pipe.send((kind, value))

    def _show(self, status: str) -> None:
        if self.showProgress:
            sys.stdout.write(f"\r\033[K{status}")
            sys.stdout.flush()

    def _stopWorkers(self) -> None:
        for process in self.processes:
            process.join(PROGRESS_INTERVAL * 4)
            if process.is_alive():
                process.terminate()
                process.join()


WORKER_CONFIG = [
    "targets",
    "senders",
    "size",
    "rate",
    "window",
    "drain",
    "connect-batch",
    "timeout",
]
"""The options a worker needs."""


def _onError(worker: int, message: str) -> NoReturn:
    raise BenchError(message)


def report(
    options: Options,
    sent: dict[int, int],
    window: float,
    results: list[dict[str, Any]],
    settleSeconds: float,
) -> dict[str, Any]:
    """The figures of a run, merged from every worker's results."""
    stats = [result["stats"] for result in results]
    latencies = sorted(ns for one in stats for ns in one.latenciesNs)
    checks = {
        "lost": sum(result["lost"] for result in results),
        "extra": sum(result["extra"] for result in results),
        "order_violations": sum(one.orderViolations for one in stats),
        "self_echo": sum(one.selfEcho for one in stats),
        "malformed": sum(one.malformed for one in stats),
        "closed_by_server": sum(one.closedByServer for one in stats),
    }
    windowRelayed = sum(result["deliveries"] for result in results)
    return {
        "targets": [f"{host}:{port}" for host, port in options["targets"]],
        "clients": options["clients"],
        "senders": options["senders"],
        "size": options["size"],
        "rate": options["rate"],
        "window": options["window"],
        "workers": options["workers"],
        "settle_s": round(settleSeconds, 3),
        "duration_s": window,
        "lines_sent": sum(sent.values()),
        "deliveries_window": windowRelayed,
        "deliveries_per_s": round(windowRelayed / window, 1),
        "loadgen_cpu": round(sum(result["cpu"] for result in results) / window, 2),
        "latency_us": latencySummary(latencies),
        **checks,
        "ok": not any(checks.values()),
    }


def latencySummary(ordered: list[int]) -> dict[str, Any]:
    """Percentiles, in microseconds, of the sorted latencies C{ordered}."""
    summary: dict[str, Any] = {"samples": len(ordered)}
    for name, fraction in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)]:
        summary[name] = (
            round(percentile(ordered, fraction) / 1e3, 1) if ordered else None
        )
    summary["max"] = round(ordered[-1] / 1e3, 1) if ordered else None
    return summary


def formatReport(figures: dict[str, Any]) -> str:
    """The report for people."""
    pace = f"{figures['rate']:g} lines/s per sender" if figures["rate"] else "flat out"
    latency = figures["latency_us"]
    latencyLine = (
        "  ".join(f"{name} {latency[key]:,.1f}" for name, key in LATENCY_NAMES)
        + f"  ({latency['samples']:,} samples)"
        if latency["samples"]
        else "no samples"
    )
    return "\n".join(
        [
            f"targets       {', '.join(figures['targets'])}",
            f"load          {figures['clients']} clients, "
            f"{figures['senders']} senders, {figures['size']}-byte lines, "
            f"{pace} (window {figures['window']}), "
            f"{figures['workers']} worker(s)",
            f"settled       in {figures['settle_s']:.2f} s",
            f"sent          {figures['lines_sent']:,} lines",
            f"deliveries    {figures['deliveries_window']:,} in "
            f"{figures['duration_s']:g} s = "
            f"{figures['deliveries_per_s']:,.0f} deliveries/s",
            f"latency (us)  {latencyLine}",
            f"loadgen cpu   {figures['loadgen_cpu']:.2f} cores during the window",
            f"checks        lost {figures['lost']}, extra {figures['extra']}, "
            f"order violations {figures['order_violations']}, "
            f"self echo {figures['self_echo']}, malformed {figures['malformed']}, "
            f"closed by server {figures['closed_by_server']}",
            f"result        {'OK' if figures['ok'] else 'PROBLEMS (see checks)'}",
        ]
    )


LATENCY_NAMES = [
    ("p50", "p50"),
    ("p90", "p90"),
    ("p99", "p99"),
    ("p99.9", "p999"),
    ("max", "max"),
]


def main() -> None:
    options = parseCommandLine(Options(), PROGRAM)
    showProgress = not options["json"] and sys.stdout.isatty()
    try:
        figures = Coordinator(options, showProgress).run()
    except BenchError as failed:
        if showProgress:
            sys.stdout.write("\r\033[K")
        raise SystemExit(f"{PROGRAM}: {failed}") from None
    except KeyboardInterrupt:
        raise SystemExit(f"\n{PROGRAM}: interrupted") from None
    print(json.dumps(figures) if options["json"] else formatReport(figures))
    raise SystemExit(0 if figures["ok"] else 1)
