"""
How soon C{mini_serv PORT} listens, and how soon it serves, after being
started: median and worst of several runs.

Run from the repository root with the environment's Python, e.g.
C{.venv/bin/python benchmarks/miniserv_start.py --runs 9}; after C{--}, another
command to start instead of the environment's C{mini_serv} (the port is
added after it), e.g. one installed from the wheel:
C{... miniserv_start.py -- env PYTHONPATH=DIR DIR/bin/mini_serv}.

"listening" is the first successful connect (the kernel completes it into
the listen backlog); "first relay" is when that first client has received
the arrival notice of a second one and a line the second one sent.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINI_SERV = str(Path(sys.executable).with_name("mini_serv"))
DEADLINE = 10.0


def freePort() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connectWhenListening(port: int, started: float) -> socket.socket:
    while time.monotonic() - started < DEADLINE:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        except ConnectionRefusedError:
            time.sleep(0.001)
    raise SystemExit("mini_serv did not listen")


def oneRun(command: list[str], directory: str) -> tuple[float, float]:
    port = freePort()
    started = time.monotonic()
    server = subprocess.Popen(
        [*command, str(port)], cwd=directory, stdout=subprocess.DEVNULL
    )
    try:
        first = connectWhenListening(port, started)
        listening = time.monotonic() - started
        second = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        second.sendall(b"x\n")
        expected = b"server: client 1 just arrived\nclient 1: x\n"
        received = b""
        while len(received) < len(expected):
            received += first.recv(100)
        serving = time.monotonic() - started
        assert received == expected, received
        first.close()
        second.close()
        return listening, serving
    finally:
        server.terminate()
        server.wait(DEADLINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "command",
        nargs="*",
        default=[MINI_SERV],
        help="what to start, followed by the port (default: %(default)s)",
    )
    arguments = parser.parse_args()
    runs = arguments.runs
    with tempfile.TemporaryDirectory() as directory:
        results = [oneRun(arguments.command, directory) for _ in range(runs)]
    for name, values in zip(
        ["listening", "first relay"], zip(*results, strict=True), strict=True
    ):
        print(
            f"{name:11}  median {statistics.median(values) * 1000:6.1f} ms"
            f"  max {max(values) * 1000:6.1f} ms  ({runs} runs)"
        )


if __name__ == "__main__":
    main()
