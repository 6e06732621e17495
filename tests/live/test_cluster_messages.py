"""
Messages in a cluster with real nodes: the stream numbers them, so that
pages on every node have the same ids in the same order, and a page that
comes back to another node catches up exactly.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat.core import wire
from tests.support.live import Client, waitFor
from tests.support.livecluster import Cluster, Node
from tests.support.webclient import WEB, WebClient, webPort

pytestmark = [pytest.mark.cluster, pytest.mark.live]

MESSAGES = "chat.json"


class Page:
    """A page's socket: C{chat.json}, its frames read one by one."""

    def __init__(self, node: Node, since: int | None = None) -> None:
        path = "/ws" if since is None else f"/ws?since={since}"
        self.socket = WebClient(webPort(node), path=path, protocol=MESSAGES)
        self.frames: list[dict[str, Any]] = []

    def messagesUntil(self, *texts: str) -> list[dict[str, Any]]:
        """
        The messages received until there is one of each of C{texts}, and
        those that came with the last.
        """
        received: list[dict[str, Any]] = []
        while not set(texts) <= {message["text"] for message in received}:
            frame = json.loads(self.socket.receive())
            self.frames.append(frame)
            received.extend(frame.get("messages", []))
        return received

    def close(self) -> None:
        self.socket.close()


def caughtUpExactly(back: Page, last: int) -> list[dict[str, Any]]:
    """
    C{back}, a page come back with the id C{last}, is told its catching up
    is complete and sent exactly the lines C{missed 0} to C{missed 29}:
    their messages.
    """
    received = back.messagesUntil("missed 29")
    caughtUp = [frame["caughtUp"] for frame in back.frames if "caughtUp" in frame]
    assert caughtUp == [{"since": last, "complete": True}]
    said = [m for m in received if m["kind"] == "line"]
    assert [m["text"] for m in said] == [f"missed {n}" for n in range(30)]
    return said


def twoNodes(cluster: Cluster) -> list[Node]:
    """Two nodes in chat mode with a web door, joined."""
    return cluster.start(2, "--commands", *WEB)


def test_sameIdsOnEveryNode(cluster: Cluster) -> None:
    """
    Pages on two nodes are sent the lines said on both, with the same ids,
    times and senders, in the same order; ids increase.
    """
    a, b = twoNodes(cluster)
    pageA = Page(a)
    a.waitForLog(r"client 0 connected")
    pageB = Page(b)
    b.waitForLog(r"client 1 connected")
    talkers = [Client(a.port)]
    a.waitForLog(r"client 2 connected")
    talkers.append(Client(b.port))
    cluster.clients.extend(talkers)
    talkers[0].expect(b"server: client 3 just arrived\n")
    for round in range(5):
        talkers[0].send(b"a%d\n" % round)
        talkers[1].send(b"b%d\n" % round)
    talkers[0].send(b"a end\n")
    talkers[1].send(b"b end\n")
    seen = [page.messagesUntil("a end", "b end") for page in (pageA, pageB)]
    said = [[m for m in messages if m["kind"] == "line"] for messages in seen]
    assert said[0] == said[1]
    assert len(said[0]) == 12
    ids = [m["id"] for m in said[0]]
    assert ids == sorted(set(ids))
    senders = {m["text"][0]: m["from"]["id"] for m in said[0]}
    assert senders == {"a": 2, "b": 3}


def test_catchesUpOnAnotherNode(cluster: Cluster) -> None:
    """
    A page that had a message on node A and comes back to node B is told
    its catching up is complete, then sent exactly the 30 lines said
    meanwhile on B, each once, in order, with the ids A's pages got.
    """
    a, b = twoNodes(cluster)
    watcherA = Client(a.port)
    cluster.clients.append(watcherA)
    page = Page(a)
    watcherA.expect(b"server: client 1 just arrived\n")
    talker = Client(b.port)
    cluster.clients.append(talker)
    watcherA.expect(b"server: client 2 just arrived\n")
    talker.send(b"before\n")
    last = page.messagesUntil("before")[-1]["id"]
    page.close()
    watcherA.expect(b"client 2: before\n" + wire.left(1))
    missed = b"".join(b"missed %d\n" % n for n in range(30))
    talker.send(missed)
    watcherA.expect(missed.replace(b"missed", b"client 2: missed"))
    back = Page(b, since=last)
    said = caughtUpExactly(back, last)
    ids = [m["id"] for m in said]
    assert ids == sorted(set(ids)) and ids[0] > last
    back.close()


def test_nodeStartedLaterCatchesAPageUp(cluster: Cluster) -> None:
    """
    A node that joins after the lines were said reads the stream's last
    entries back as it starts: a page that had a message on node A, comes
    back to it, and catches up exactly, and a newcomer's history there
    holds the last lines.
    """
    (a,) = cluster.start(1, "--history", "5", *WEB)
    talker = Client(a.port)
    cluster.clients.append(talker)
    page = Page(a)
    talker.expect(b"server: last 0 lines\nserver: end of history\n")
    talker.expect(b"server: client 1 just arrived\n")
    talker.send(b"before\n")
    last = page.messagesUntil("before")[-1]["id"]
    page.close()
    talker.expect(wire.left(1))
    talker.send(b"".join(b"missed %d\n" % n for n in range(30)))
    newest = ("XREVRANGE", "chat:main:stream", "+", "-", "COUNT", "1")
    waitFor(lambda: "missed 29" in cluster.redis.cli(*newest), "the lines in Redis")
    (b,) = cluster.start(1, "--history", "5", *WEB)
    caughtUpExactly(Page(b, since=last), last)
    newcomer = Page(b)
    said = [m["text"] for m in newcomer.messagesUntil("end of history")]
    assert said[-7:] == [
        "last 5 lines",
        *[f"missed {n}" for n in range(25, 30)],
        "end of history",
    ]
