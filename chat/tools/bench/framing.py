"""
The lines a sender writes, and what a receiver reads from the lines it
receives: plain functions, no reactor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chat.core import wire
from chat.tools.notices import ARRIVED_END, RELAYED, RELAYED_START

PROBE_LINE = re.compile(RELAYED.pattern + rb"(\d+) (\d+) ")
"""A relayed benchmark line: the client id, the sender and the sequence number."""


def payload(sender: int, seq: int, sentNs: int, size: int) -> bytes:
    """One line of C{size} bytes (and its newline) from C{sender}."""
    head = b"%d %d %d " % (sender, seq, sentNs)
    return head + b"x" * (size - len(head)) + b"\n"


@dataclass
class Sample:
    """What the last line of a received chunk says."""

    sender: int
    seq: int
    sentNs: int


def parseRelayed(line: bytes) -> Sample | None:
    """
    C{line} (without its newline) as C{client ID: SENDER SEQ TIME xxx}, or
    None if it is not a relayed benchmark line.
    """
    if not line.startswith(RELAYED_START):
        return None
    _, separator, text = line.partition(b": ")
    fields = text.split(b" ", 3)
    if not separator or len(fields) < 4:
        return None
    try:
        return Sample(int(fields[0]), int(fields[1]), int(fields[2]))
    except ValueError:
        return None


def noticeLines(block: bytes) -> tuple[int, int]:
    """
    The bytes of the server notices among the complete lines C{block}, and
    how many of them are arrival notices.
    """
    noticeBytes = arrivals = 0
    for line in block.split(b"\n")[:-1]:
        if line.startswith(wire.SERVER_PREFIX):
            noticeBytes += len(line) + 1
            arrivals += line.endswith(ARRIVED_END)
    return noticeBytes, arrivals


def mayHoldNotice(data: bytes) -> bool:
    """
    Relayed benchmark lines never contain a C{v} (the prefix is
    C{client N: }, the payload digits, spaces and C{x}) while every notice
    does (C{server: }): a single-byte search, at memory speed, rules out
    nearly every chunk.
    """
    return b"v" in data


def lineLength(clientId: int, size: int) -> int:
    """The bytes a receiver gets for one line of C{size} from C{clientId}."""
    return len(wire.linePrefix(clientId)) + size + 1
