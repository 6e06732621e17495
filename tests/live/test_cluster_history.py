"""
The history in a cluster with real nodes: what a newcomer gets before the
live room, while a client of the same node keeps talking.
"""

from __future__ import annotations

import re
import threading

import pytest

from chat.core import wire
from tests.support.live import Client
from tests.support.livecluster import Cluster

NEWCOMERS = 40
END = b"client 0: end\n"


def sendNumbered(sender: Client, stop: threading.Event) -> int:
    """Send C{0\\n}, C{1\\n}... until C{stop} is set; how many were sent."""
    sent = 0
    while not stop.is_set():
        sender.send(b"%d\n" % sent)
        sent += 1
        stop.wait(0.001)
    return sent


def readUntil(client: Client, data: bytes) -> None:
    """Receive until C{client}'s buffer holds C{data}."""
    while data not in client.buffer:
        chunk = client.sock.recv(1 << 20)
        assert chunk, f"connection closed; received {client.buffer[-200:]!r}"
        client.buffer += chunk


def numbers(data: bytes) -> list[int]:
    """The numbers client 0 sent, in the lines of C{data}."""
    return [int(n) for n in re.findall(rb"^client 0: (\d+)$", data, re.MULTILINE)]


def historyThenLive(client: Client) -> tuple[list[int], list[int]]:
    """
    The numbers client 0 sent, as C{client} had them: in its history, and
    live afterwards until client 0's last line, C{end}.
    """
    readUntil(client, END)
    match = re.fullmatch(
        rb"server: last \d+ lines\n(.*?)server: end of history\n(.*)",
        client.buffer,
        re.DOTALL,
    )
    assert match, f"no history block first: {client.buffer[:200]!r}"
    return numbers(match.group(1)), numbers(match.group(2))


@pytest.mark.cluster
@pytest.mark.live
def test_newcomersOnTheSendersNodeMissNothing(cluster: Cluster) -> None:
    """
    Newcomers join a node one after the other while a client of that node
    sends numbered lines: each one's history and the live room meet with no
    line missing and none twice.  A client on the other node makes sure the
    stream is shared.
    """
    a, b = cluster.start(2, "--history", "100")
    sender = cluster.connect(a)
    sender.expect(wire.historyStart(0) + wire.END_OF_HISTORY)
    listener = cluster.connect(b)
    listener.expect(wire.historyStart(0) + wire.END_OF_HISTORY)
    stop = threading.Event()
    sent: list[int] = []
    thread = threading.Thread(target=lambda: sent.append(sendNumbered(sender, stop)))
    thread.start()
    newcomers = []
    try:
        for _ in range(NEWCOMERS):
            newcomer = Client(a.port)
            readUntil(newcomer, wire.END_OF_HISTORY)
            newcomers.append(newcomer)
    finally:
        stop.set()
        thread.join()
    sender.send(b"end\n")
    everything = list(range(sent[0]))
    readUntil(listener, END)
    assert numbers(listener.buffer) == everything
    torn = {}
    for index, newcomer in enumerate(newcomers):
        history, live = historyThenLive(newcomer)
        seen = history + live
        if seen != everything[len(everything) - len(seen) :]:
            torn[index] = (history[-3:], live[:3])
    assert torn == {}, f"{len(torn)} of {NEWCOMERS}: (history ends, live starts)"
