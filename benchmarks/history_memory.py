"""
What C{--history N} costs in memory: the server's resident set size after
one client has sent N lines of a given size, with the history on and off.

Run from the repository root with the environment's Python, e.g.
C{.venv/bin/python benchmarks/history_memory.py --lines 10000 --size 64}.

The history holds its lines in blocks of about 64 KiB, joined once (and
the newest few, not yet in a block, one bytes object each): about their
length, plus 4 bytes a line for where it ends.  With the history off the
same lines pass through and are gone.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TWISTD = str(Path(sys.executable).with_name("twistd"))
DEADLINE = 20.0


def resident(pid: int) -> int:
    """The resident set size of process C{pid}, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1)) * 1024


def serve(directory: str, history: int) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arguments = ["--history", str(history)] if history else []
    server = subprocess.Popen(
        [TWISTD, "-n", "--pidfile=", "chat", "--port", str(port)]
        + ["--log-level", "warn", "--logfile", "chat.log", *arguments],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port)).close()
        except OSError:
            time.sleep(0.05)
        else:
            return server, port
    server.kill()
    raise SystemExit("the server did not start")


def waitForHistory(port: int, tail: bytes) -> None:
    """Until a newcomer's history ends with C{tail}: every line is in."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        with socket.create_connection(("127.0.0.1", port)) as witness:
            witness.settimeout(DEADLINE)
            chunks: list[bytes] = []
            while not b"".join(chunks[-2:]).count(b"server: end of history\n"):
                chunks.append(witness.recv(1 << 20))
            block = b"".join(chunks).split(b"server: end of history\n")[0]
            if block.endswith(tail):
                return
        time.sleep(0.2)
    raise SystemExit("the history never got the last line")


def measure(history: int, lines: int, size: int) -> tuple[int, int]:
    """Resident bytes before and after C{lines} lines of C{size} bytes."""
    with tempfile.TemporaryDirectory() as directory:
        server, port = serve(directory, history)
        try:
            sender = socket.create_connection(("127.0.0.1", port))
            sender.settimeout(DEADLINE)
            if history:
                sender.recv(1 << 16)  # the empty history
            time.sleep(0.5)
            before = resident(server.pid)
            body = b"".join(b"%0*d\n" % (size, n) for n in range(lines))
            sender.sendall(body)
            if history:
                waitForHistory(port, b"%0*d\n" % (size, lines - 1))
            else:
                time.sleep(1.0)
            time.sleep(0.5)
            return before, resident(server.pid)
        finally:
            server.terminate()
            server.wait(DEADLINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--size", type=int, action="append")
    options = parser.parse_args()
    print("size  history   RSS before   RSS after   growth   per line")
    for size in options.size or [64, 1024]:
        for history in (0, options.lines):
            before, after = measure(history, options.lines, size)
            growth = after - before
            print(
                f"{size:>4}  {history:>7}  {before / 1e6:>8.1f} MB"
                f"  {after / 1e6:>8.1f} MB"
                f"  {growth / 1e6:>5.1f} MB  {growth / options.lines:>6.0f} B"
            )


if __name__ == "__main__":
    main()
