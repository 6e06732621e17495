#!/usr/bin/env python3
"""
The CPU cost of the relay's input path, in process: a room of clients on
in-memory transports (two by default), one of them sending chunks of 64-byte
lines, each chunk relayed and its round flushed to the others.

    .venv/bin/python benchmarks/input_path.py [--seconds S] [--max-line N]
        [--clients N]

With two clients the figures are mostly the input path (splitting, flood
control bookkeeping, framing); with many, the in-memory writes dominate.

Prints, for chunks of 1, 8, 64 and 1000 lines and for lines longer than
--max-line, the CPU time per received line (process time, so other processes
on the machine count far less than in a wall-clock figure).  The figure to
compare is the same row of two builds run one after the other.
"""

from __future__ import annotations

import argparse
import time
from typing import cast

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import ILogObserver, Logger

from chat.core.peers import LocalPeers
from chat.core.room import ChatRoom
from chat.tcp.door import TCPDoor

LINE = b"x" * 63 + b"\n"


def _room(maxLine: int, clients: int) -> tuple[ChatRoom, Clock, list[StringTransport]]:
    clock = Clock()
    quiet = cast(ILogObserver, lambda event: None)
    room = ChatRoom(Logger(observer=quiet), clock, LocalPeers(), maxLine)
    room.door = TCPDoor(room, clock)
    room.logRelays = False
    transports = []
    for _ in range(clients):
        transport = StringTransport()
        client = room.door.buildProtocol(transport.getPeer())
        client.makeConnection(transport)
        transports.append(transport)
    clock.advance(0)
    return room, clock, transports


def measure(
    chunk: bytes, lines: int, seconds: float, maxLine: int, clients: int
) -> float:
    """CPU microseconds per line of C{chunk} (C{lines} lines) relayed."""
    room, clock, transports = _room(maxLine, clients)
    sender = room.clients[0]
    received = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(50):
            sender.dataReceived(chunk)
            clock.advance(0)
        for transport in transports:
            transport.clear()
        received += 50 * lines
    return (time.process_time() - start) * 1e6 / received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--max-line", type=int, default=65536)
    parser.add_argument("--clients", type=int, default=2)
    options = parser.parse_args()
    cases = [(f"{n} lines a chunk", LINE * n, n) for n in (1, 8, 64, 1000)]
    long = b"y" * (options.max_line * 3 + 10) + b"\n"
    cases.append((f"a line of {len(long)} bytes", long, 1))
    for label, chunk, lines in cases:
        cost = measure(chunk, lines, options.seconds, options.max_line, options.clients)
        print(f"{label:>28}: {cost:8.2f} us CPU per line")


if __name__ == "__main__":
    main()
