#!/usr/bin/env python3
"""
What reading a browser's lines costs, in process: whole masked text frames
of 64 bytes, 100 to a network read, taken by the web door's own fast path
(L{chat.web.socket.takeTextFrames}) against wsproto's frame parser, which
reads every other frame.

    .venv/bin/python benchmarks/text_frames.py [--reads N]

Prints the CPU time per frame of each (process time), and the ratio of
wsproto's to the fast path's.
"""

from __future__ import annotations

import argparse
import os
import time

from wsproto.connection import Connection, ConnectionType
from wsproto.events import TextMessage

from chat.web.socket import takeTextFrames
from tests.support.webclient import TEXT, frame

FRAMES = 100
"""Frames in one network read."""


def fastPath(data: bytes, reads: int) -> float:
    """Seconds of CPU per frame taken by the fast path."""
    started = time.process_time()
    for _ in range(reads):
        lines: list[bytes] = []
        takeTextFrames(data, 0, lines)
    return (time.process_time() - started) / (reads * FRAMES)


def wsproto(data: bytes, reads: int) -> float:
    """Seconds of CPU per frame read by wsproto, as the door reads it."""
    started = time.process_time()
    connection = Connection(ConnectionType.SERVER)
    for _ in range(reads):
        connection.receive_data(data)
        lines = [
            event.data.encode()
            for event in connection.events()
            if isinstance(event, TextMessage)
        ]
        assert len(lines) == FRAMES
    return (time.process_time() - started) / (reads * FRAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=2000)
    arguments = parser.parse_args()
    data = b"".join(frame(TEXT, os.urandom(32).hex().encode()) for _ in range(FRAMES))
    fast, slow = fastPath(data, arguments.reads), wsproto(data, arguments.reads)
    print(
        f"64-byte text frames, {FRAMES} a read: fast path {fast * 1e6:.2f} us a frame, "
        f"wsproto {slow * 1e6:.2f} us a frame ({slow / fast:.1f}x)"
    )


if __name__ == "__main__":
    main()
