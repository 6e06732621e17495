#!/usr/bin/env python3
"""
Passive readers for a cluster benchmark: N connections to one node that only
read, counting the lines relayed to them from the other nodes.

    python3 benchmarks/sink.py --port 9002 --clients 50 --duration 5 --warmup 1

Connects, waits for the first relayed line, lets --warmup seconds pass, then
counts every relayed line (C{client ...}) received during --duration seconds
and prints deliveries per second.  Standard library only; the load itself
comes from chatload on another node.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    options = parser.parse_args()

    selector = selectors.DefaultSelector()
    for _ in range(options.clients):
        connection = socket.create_connection((options.host, options.port))
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ)
    print(f"{options.clients} connections open; waiting for relayed lines", flush=True)

    deadline = time.monotonic() + options.timeout
    windowStart = windowEnd = None
    counted = 0
    while True:
        now = time.monotonic()
        if windowEnd is not None and now >= windowEnd:
            break
        if now > deadline:
            raise SystemExit("sink: no relayed line arrived in time")
        for key, _ in selector.select(timeout=0.1):
            data = key.fileobj.recv(1 << 20)  # type: ignore[union-attr]
            if not data:
                raise SystemExit("sink: the server closed a connection")
            if windowStart is None and b"client " in data:
                windowStart = time.monotonic() + options.warmup
                windowEnd = windowStart + options.duration
            elif windowStart is not None and windowStart <= time.monotonic():
                counted += data.count(b"\n")
    print(f"deliveries/s {counted / options.duration:,.0f}")


if __name__ == "__main__":
    main()
