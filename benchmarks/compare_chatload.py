"""
chat-bench against the benchmark kit's C load generator, chatload, on the
same server: deliveries per second, latency and load-generator CPU for a
few short scenarios, run alternately on a fresh server each time.

Run from the repository root with the environment's Python:

    .venv/bin/python benchmarks/compare_chatload.py --kit KIT

KIT is the benchmark kit: a directory holding compare, chatload.c and
refserver.c.

With two or more CPUs the server is pinned to the first and the load
generator to the second, as the kit's compare does.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
SCENARIOS = [
    ("flat out, window 64", []),
    ("flat out, window 256", ["--window", "256"]),
    ("100 lines/s per sender", ["--rate", "100"]),
]
"""Name and extra options, the same for both load generators."""


def freePort() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinnedTo(cpu: int) -> Callable[[], None] | None:
    """What pins a child process to C{cpu}, when there are CPUs to spare."""
    if len(os.sched_getaffinity(0)) < 2:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def startServer(directory: str) -> tuple[subprocess.Popen[bytes], int]:
    port = freePort()
    server = subprocess.Popen(
        [str(BIN / "twistd"), "-n", "--pidfile=", "chat", "--port", str(port)]
        + ["--log-level", "warn", "--logfile", "server.log"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        preexec_fn=pinnedTo(0),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server, port
        time.sleep(0.05)
    server.kill()
    raise SystemExit("the server did not start")


def runLoad(command: list[str], directory: str) -> Any:
    server, port = startServer(directory)
    try:
        done = subprocess.run(
            [*command, *portArguments(command[0], port)],
            capture_output=True,
            text=True,
            preexec_fn=pinnedTo(1),
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(10)
    if not done.stdout.strip():
        raise SystemExit(f"{command[0]} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def portArguments(program: str, port: int) -> list[str]:
    if program.endswith("chatload"):
        return ["--port", str(port)]
    return ["--target", f"127.0.0.1:{port}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kit", required=True, help="the benchmark kit's directory")
    parser.add_argument("--duration", default="3")
    parser.add_argument("--warmup", default="1")
    arguments = parser.parse_args()
    common = ["--clients", "100", "--senders", "10", "--json"]
    common += ["--duration", arguments.duration, "--warmup", arguments.warmup]
    with tempfile.TemporaryDirectory() as directory:
        chatload = str(Path(directory) / "chatload")
        source = str(Path(arguments.kit) / "chatload.c")
        subprocess.run(["cc", "-O2", "-o", chatload, source], check=True)
        print(
            "| scenario | chatload deliveries/s | chat-bench deliveries/s | ratio "
            "| chatload CPU | chat-bench CPU | p50 latency chatload / chat-bench |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, extra in SCENARIOS:
            c = runLoad([chatload, *common, *extra], directory)
            b = runLoad([str(BIN / "chat-bench"), *common, *extra], directory)
            print(row(name, c, b))


def row(name: str, c: Any, b: Any) -> str:
    """One table row: chatload's figures C{c}, chat-bench's C{b}."""
    problems = "" if c["ok"] and b["ok"] else " (a run reported problems)"
    return (
        f"| {name} | {c['deliveries_per_s']:,.0f} | {b['deliveries_per_s']:,.0f}"
        f" | {b['deliveries_per_s'] / c['deliveries_per_s']:.2f}"
        f" | {c['loadgen_cpu']:.2f} | {b['loadgen_cpu']:.2f}"
        f" | {c['latency_us']['p50'] / 1000:.1f} ms"
        f" / {b['latency_us']['p50'] / 1000:.1f} ms |{problems}"
    )


if __name__ == "__main__":
    main()
