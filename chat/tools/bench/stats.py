"""
What a worker's receivers count, and the percentiles of the latencies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


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


def latencySummary(ordered: list[int]) -> dict[str, Any]:
    """Percentiles, in microseconds, of the sorted latencies C{ordered}."""
    summary: dict[str, Any] = {"samples": len(ordered)}
    for name, fraction in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)]:
        summary[name] = (
            round(percentile(ordered, fraction) / 1e3, 1) if ordered else None
        )
    summary["max"] = round(ordered[-1] / 1e3, 1) if ordered else None
    return summary
