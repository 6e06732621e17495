"""
What C{--metrics} costs the relay: C{chat-bench}'s latency through a server
with C{--metrics} while C{GET /metrics} is scraped every C{--interval}
seconds (or never, with C{--interval 0}), and how long each scrape took.

Run from the repository root with the environment's Python, e.g.
C{.venv/bin/python benchmarks/metrics_scrape.py --clients 500 --interval 0.1}.

A scrape is answered on the reactor's thread: its time is time the relay
waits.  The room's counters are plain additions; the process's own families
(C{process_*}) read C{/proc} only when scraped, and C{process_open_fds}
lists the open files, so a scrape grows with the connected clients.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
DEADLINE = 20.0


def freePort() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> bytes:
    """What C{GET /metrics} on C{port} answers."""
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/metrics", timeout=DEADLINE
    ) as response:
        return bytes(response.read())


def serve(directory: str) -> tuple[subprocess.Popen[bytes], int, int]:
    """
    A server with C{--metrics}, once it answers a scrape: the process, its
    chat port and its metrics port.
    """
    port, metrics = freePort(), freePort()
    server = subprocess.Popen(
        [str(BIN / "twistd"), "-n", "--pidfile=", "chat", "--port", str(port)]
        + ["--log-level", "warn", "--logfile", "chat.log", "--max-clients", "20000"]
        + ["--metrics", f"tcp:{metrics}:interface=127.0.0.1"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + DEADLINE
    while server.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            scrape(metrics)
            return server, port, metrics
        time.sleep(0.05)
    server.kill()
    raise SystemExit("the server did not start")


def scraper(
    port: int, interval: float, stop: threading.Event
) -> tuple[list[float], list[float]]:
    """
    Scrape every C{interval} seconds until C{stop}; the seconds each took,
    in a list that grows meanwhile, and the open files each saw.
    """
    times: list[float] = []
    pattern = re.compile(rb"^process_open_fds (\S+)$", re.MULTILINE)

    def run() -> None:
        while not stop.wait(interval):
            started = time.perf_counter()
            body = scrape(port)
            times.append(time.perf_counter() - started)
            found = pattern.search(body)
            openFiles.append(float(found.group(1)) if found else 0.0)

    openFiles: list[float] = []
    threading.Thread(target=run, daemon=True).start()
    return times, openFiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--rate", type=int, default=100, help="lines/s per sender")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.1)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        server, port, metrics = serve(directory)
        try:
            stop = threading.Event()
            times, openFiles = (
                scraper(metrics, arguments.interval, stop)
                if arguments.interval
                else ([], [])
            )
            bench = subprocess.run(
                [str(BIN / "chat-bench"), "--json", "--target", f"127.0.0.1:{port}"]
                + ["--clients", str(arguments.clients)]
                + ["--senders", str(arguments.senders)]
                + ["--rate", str(arguments.rate)]
                + ["--duration", str(arguments.duration)],
                capture_output=True,
                text=True,
                check=True,
            )
            stop.set()
        finally:
            server.terminate()
            server.wait(DEADLINE)
    figures = json.loads(bench.stdout)
    print(
        json.dumps(
            {
                "clients": arguments.clients,
                "interval_s": arguments.interval,
                "latency_us": figures["latency_us"],
                "ok": figures["ok"],
                "scrapes": len(times),
                "scrape_ms_median": round(statistics.median(times) * 1000, 2)
                if times
                else None,
                "scrape_ms_max": round(max(times) * 1000, 2) if times else None,
                "open_fds_max": max(openFiles, default=None),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
