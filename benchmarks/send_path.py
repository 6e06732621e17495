#!/usr/bin/env python3
"""
What a recipient costs on the write path, in process: one 65-byte line sent
to each of 100 UNIX socket pairs, through the send queue
(L{chat.core.sendq.SocketQueue}) against a bare loop of C{socket.send}.

    .venv/bin/python benchmarks/send_path.py [--rounds N]

Prints the best time per send of each over a number of tries (the readers
are emptied between tries, untimed), and what the send queue adds.  Most of
either is the system call itself: the difference is the send queue's part.
"""

from __future__ import annotations

import argparse
import socket
import time
from collections.abc import Callable

from twisted.internet.protocol import Protocol
from twisted.internet.tcp import Connection

from chat.core.sendq import SocketQueue

CLIENTS = 100
LINE = b"client 3: " + b"x" * 54 + b"\n"
TRIES = 30


def bestPerSend(
    send: Callable[[], None], readers: list[socket.socket], rounds: int
) -> float:
    """The best of L{TRIES} of C{rounds} calls of C{send}, in seconds a send."""
    best = float("inf")
    for _ in range(TRIES):
        for reader in readers:
            try:
                while reader.recv(1 << 20):
                    pass
            except BlockingIOError:
                pass
        started = time.perf_counter()
        for _ in range(rounds):
            send()
        best = min(best, (time.perf_counter() - started) / (rounds * len(readers)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50, help="sends to each a try")
    rounds = parser.parse_args().rounds
    pairs = [socket.socketpair() for _ in range(CLIENTS)]
    for writer, reader in pairs:
        writer.setblocking(False)
        reader.setblocking(False)
        writer.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    readers = [reader for _, reader in pairs]
    queues = [SocketQueue(Connection(writer, Protocol())) for writer, _ in pairs]
    sends = [writer.send for writer, _ in pairs]

    def throughQueues() -> None:
        for queue in queues:
            queue.write(LINE)

    def bare() -> None:
        for send in sends:
            send(LINE)

    queued = bestPerSend(throughQueues, readers, rounds)
    plain = bestPerSend(bare, readers, rounds)
    if any(queue.size for queue in queues):
        raise SystemExit("a send queue held output: the figures are not of sends alone")
    print(f"send queue   {queued * 1e6:.3f} us a send")
    print(f"socket.send  {plain * 1e6:.3f} us a send")
    print(f"the queue's part {(queued - plain) * 1e6:.3f} us a send")


if __name__ == "__main__":
    main()
