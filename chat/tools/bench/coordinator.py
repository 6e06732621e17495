"""
The coordinator: starts the workers, keeps them in step, merges their
results.  It runs no reactor.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from multiprocessing.connection import Connection, wait
from typing import Any, NoReturn

from chat.tools.bench.options import Options
from chat.tools.bench.report import report
from chat.tools.bench.worker import PROGRESS_INTERVAL, runWorker

START_MARGIN_NS = 100_000_000
"""How far ahead of now the coordinator sets the common start."""
RATE_SPAN = 1.0
"""Seconds over which the live progress line averages the rate."""


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
    "ws",
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
