"""
Browsers against TCP clients on one server: chat-bench over TCP and over
WebSocket (--ws) against the same server process, alternately, and the
memory an idle client costs either way.

Run from the repository root with the environment's Python:

    .venv/bin/python benchmarks/websocket.py [--rounds 3] [--duration 5] [--rate R]

Each round runs chat-bench once over TCP and once over WebSocket (100
clients, 10 senders, 64-byte lines, flat out); the table gives the median
of the rounds, and the server's CPU time per delivery over each whole
run (so the load generator's own limits do not hide the server's).  Then
1000 idle clients of each kind connect to a fresh server and the growth of
its resident memory is divided among them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
IDLE_CLIENTS = 1000


def freePort() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """C{twistd chat} with a TCP port and a web port, in C{directory}."""

    def __init__(self, directory: str, logLevel: str = "warn") -> None:
        self.port, self.webPort = freePort(), freePort()
        self.log = Path(directory) / "server.log"
        self.process = subprocess.Popen(
            [str(BIN / "twistd"), "-n", "--pidfile=", "chat"]
            + [
                "--port",
                str(self.port),
                "--web",
                f"tcp:{self.webPort}:interface=127.0.0.1",
            ]
            + ["--log-level", logLevel, "--logfile", str(self.log)],
            cwd=directory,
            stdout=subprocess.DEVNULL,
        )
        for port in (self.port, self.webPort):
            self._waitForPort(port)

    def _waitForPort(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"the server did not listen on {port}")

    def residentBytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]

    def cpuSeconds(self) -> float:
        """CPU time, user and system, the server has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1]
        user, system = fields.split()[11:13]
        return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def bench(server: Server, ws: bool, duration: float, rate: float) -> dict[str, Any]:
    port = server.webPort if ws else server.port
    command = [str(BIN / "chat-bench"), "--json", "--target", f"127.0.0.1:{port}"]
    command += ["--clients", "100", "--senders", "10", "--duration", str(duration)]
    command += ["--rate", str(rate)]
    used = server.cpuSeconds()
    result = subprocess.run(
        command + (["--ws"] if ws else []), capture_output=True, text=True
    )
    used = server.cpuSeconds() - used
    if result.returncode:
        raise SystemExit(f"chat-bench failed: {result.stderr or result.stdout}")
    figures: dict[str, Any] = json.loads(result.stdout)
    # Every line sent reaches the 99 other clients, in the window or not.
    figures["server_us_per_delivery"] = used * 1e6 / (figures["lines_sent"] * 99)
    return figures


def throughput(rounds: int, duration: float, rate: float) -> None:
    with tempfile.TemporaryDirectory() as directory:
        server = Server(directory)
        runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        try:
            for _ in range(rounds):
                for ws in (False, True):
                    runs[ws].append(bench(server, ws, duration, rate))
        finally:
            server.stop()
    rows = {}
    for ws, figures in runs.items():
        rows[ws] = (
            statistics.median(f["deliveries_per_s"] for f in figures),
            statistics.median(f["latency_us"]["p50"] for f in figures),
            statistics.median(f["latency_us"]["p99"] for f in figures),
            statistics.median(f["server_us_per_delivery"] for f in figures),
            sum(f["lost"] + f["order_violations"] for f in figures),
        )
    pace = f"{rate:g} lines/s per sender" if rate else "flat out"
    print(f"100 clients, 10 senders, 64-byte lines, {pace}; median of {rounds} rounds")
    print(f"{'':10} {'deliveries/s':>14} {'p50 (us)':>10} {'p99 (us)':>10}", end="")
    print(f" {'server us/delivery':>19} {'lost+disorder':>14}")
    for ws, name in ((False, "TCP"), (True, "WebSocket")):
        rate, p50, p99, cost, bad = rows[ws]
        print(f"{name:10} {rate:>14,.0f} {p50:>10,.0f} {p99:>10,.0f}", end="")
        print(f" {cost:>19.3f} {bad:>14}")
    rate, p50 = rows[True][0] / rows[False][0], rows[True][1] / rows[False][1]
    print(
        f"WebSocket/TCP: deliveries {rate:.2f}x (goal >= 0.5),"
        f" p50 {p50:.2f}x (goal <= 2)"
    )


def openIdle(port: int, ws: bool) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    if ws:
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
    return sock


def idleMemory() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * IDLE_CLIENTS), hard))
    for ws, name in ((False, "TCP"), (True, "WebSocket")):
        with tempfile.TemporaryDirectory() as directory:
            server = Server(directory, logLevel="info")
            try:
                # A few clients first, so that what every first client
                # loads (modules, buffers) is not counted per client.
                warm = [
                    openIdle(server.webPort if ws else server.port, ws)
                    for _ in range(20)
                ]
                time.sleep(1)
                before = server.residentBytes()
                idle = [
                    openIdle(server.webPort if ws else server.port, ws)
                    for _ in range(IDLE_CLIENTS)
                ]
                deadline = time.monotonic() + 60
                last = f"client {len(warm) + IDLE_CLIENTS - 1} connected"
                while (
                    last not in server.log.read_text() and time.monotonic() < deadline
                ):
                    time.sleep(0.2)
                time.sleep(1.5)  # the log is written once a second
                grown = server.residentBytes() - before
                each = grown / IDLE_CLIENTS / 1024
                print(f"{name:10} idle clients cost {each:.1f} KiB each")
                for sock in warm + idle:
                    sock.close()
            finally:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=0.0, help="0: flat out")
    parser.add_argument("--no-memory", action="store_true", help="skip idle clients")
    parser.add_argument(
        "--no-throughput", action="store_true", help="idle clients only"
    )
    arguments = parser.parse_args()
    if not arguments.no_throughput:
        throughput(arguments.rounds, arguments.duration, arguments.rate)
    if not arguments.no_memory:
        idleMemory()


if __name__ == "__main__":
    main()
