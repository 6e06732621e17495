"""
The figures of a run, merged from the workers' results, for people or as
JSON.
"""

from __future__ import annotations

from typing import Any

from chat.tools.bench.options import Options
from chat.tools.bench.stats import latencySummary


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
