"""
Cluster mode with a real redis-server and real nodes: the wire protocol
across nodes, a Redis restart, a node killed.
"""

from __future__ import annotations

import re
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from chat.core import wire
from tests.support.live import Client, Server, waitFor
from tests.support.livecluster import Cluster, RedisServer
from tests.support.webclient import WEB, WebClient, webPort


def readLines(client: Client, count: int) -> list[bytes]:
    """The next C{count} lines C{client} receives."""
    while client.buffer.count(b"\n") < count:
        chunk = client.sock.recv(1 << 20)
        assert chunk, f"connection closed; received only {client.buffer!r}"
        client.buffer += chunk
    lines = client.buffer.split(b"\n")
    client.buffer = b"\n".join(lines[count:])
    return lines[:count]


def bySender(lines: list[bytes]) -> dict[int, list[bytes]]:
    """Relayed C{lines} grouped by sender, in the order they arrived."""
    grouped: dict[int, list[bytes]] = {}
    for line in lines:
        match = re.fullmatch(rb"client (\d+): (.*)", line, re.DOTALL)
        assert match, f"not a relayed line: {line!r}"
        grouped.setdefault(int(match.group(1)), []).append(match.group(2))
    return grouped


@pytest.mark.cluster
@pytest.mark.live
def test_everyBehaviourAcrossTwoNodes(cluster: Cluster) -> None:
    """
    The chat across two nodes is as on one: CRLF lines, empty lines, every
    byte, a burst in order, a last line without its newline, and departures,
    to every other client wherever it is.
    """
    a, b = cluster.start(2)
    a0, b1, a2, b3 = (cluster.connect(node) for node in (a, b, a, b))
    others = {0: (b1, a2, b3), 1: (a0, a2, b3), 2: (a0, b1, b3), 3: (a0, b1, a2)}

    b1.send(b"hello from b\r\n")
    for client in others[1]:
        client.expect(b"client 1: hello from b\n")
    a0.send(b"\n")
    for client in others[0]:
        client.expect(b"client 0: \n")
    payload = bytes(byte for byte in range(256) if byte != 0x0A)
    a2.send(payload + b"\r\r\n")
    for client in others[2]:
        client.expect(b"client 2: " + payload + b"\r\n")
    burst = b"".join(b"line %d\n" % number for number in range(500))
    b3.send(burst)
    for client in others[3]:
        client.expect(burst.replace(b"line", b"client 3: line"))

    b1.send(b"complete\nno newline")
    b1.close()
    for client in others[1]:
        client.expect(b"client 1: complete\nclient 1: no newline\n")
        client.expect(wire.left(1))
    a0.close()
    for client in (a2, b3):
        client.expect(wire.left(0))
    a2.send(b"sentinel\n")
    b3.expect(b"client 2: sentinel\n")
    b3.send(b"sentinel\n")
    a2.expect(b"client 3: sentinel\n")


@pytest.mark.cluster
@pytest.mark.live
def test_browserWelcomeNamesEveryNode(cluster: Cluster) -> None:
    """
    A browser entering through one node is told who is in the whole room,
    the clients of the other node too, by name, as C{/who} answers.
    """
    a, b = cluster.start(2, "--commands", *WEB)
    a0 = cluster.connect(a)
    a0.send(b"/nick alice\n/who\n")
    a0.expect(b"server: 1 client: alice\n")
    web = WebClient(webPort(b))
    web.expect(b"server: you are client 1\nserver: 2 clients: alice, client 1\n")
    a0.expect(wire.arrived(1))
    web.send("/who")
    web.expect(b"server: 2 clients: alice, client 1\n")
    web.close()


@pytest.mark.cluster
@pytest.mark.live
def test_threeNodesTwentyClientsEachFiftyLines(cluster: Cluster) -> None:
    """
    Sixty clients over three nodes each send fifty lines at once: every
    client receives every other client's lines, in order, and none of its
    own.
    """
    nodes = cluster.start(3)
    clients = [cluster.connect(nodes[index % 3]) for index in range(60)]
    for clientId, client in enumerate(clients):
        client.send(b"".join(b"%d %d\n" % (clientId, n) for n in range(50)))
    for clientId, client in enumerate(clients):
        received = bySender(readLines(client, 59 * 50))
        assert clientId not in received
        assert sorted(received) == [other for other in range(60) if other != clientId]
        for sender, lines in received.items():
            assert lines == [b"%d %d" % (sender, n) for n in range(50)]


@pytest.mark.cluster
@pytest.mark.live
def test_redisRestartLosesNothing(cluster: Cluster) -> None:
    """
    Redis stops and starts again while clients on both nodes keep sending:
    every line arrives once, in order; meanwhile newcomers are turned away.
    """
    a, b = cluster.start(2)
    senders = [cluster.connect(a), cluster.connect(b)]
    readers = [cluster.connect(a), cluster.connect(b)]
    sent = 0

    def sendUntil(condition: Callable[[], bool], what: str) -> None:
        """Each sender sends a line every few milliseconds until C{condition}."""

        def step() -> bool:
            nonlocal sent
            for sender in senders:
                sender.send(b"line %d\n" % sent)
            sent += 1
            time.sleep(0.005)
            return condition()

        waitFor(step, what)

    sendUntil(lambda: sent >= 20, "20 lines sent")
    cluster.redis.stop()
    stoppedAt = sent
    sendUntil(
        lambda: (
            sent >= stoppedAt + 250
            and all("[cluster] lost redis" in node.logText() for node in (a, b))
        ),
        "both nodes to see Redis gone",
    )
    newcomer = Client(a.port)
    assert newcomer.readToEnd() == wire.NO_CLUSTER
    newcomer.close()
    cluster.redis.start()
    sendUntil(
        lambda: all("back in the cluster" in node.logText() for node in (a, b)),
        "both nodes back in the cluster",
    )
    backAt = sent
    sendUntil(lambda: sent >= backAt + 20, "20 more lines")

    expected = [b"line %d" % n for n in range(sent)]
    for reader in readers:
        assert bySender(readLines(reader, 2 * sent)) == {0: expected, 1: expected}
    assert bySender(readLines(senders[0], sent)) == {1: expected}
    assert bySender(readLines(senders[1], sent)) == {0: expected}
    for sender in senders:
        sender.send(b"end\n")
    for client in (*senders, *readers):
        for _ in range(2 if client in readers else 1):
            assert readLines(client, 1)[0].endswith(b": end")
    # What comes next for everyone is the arrival of a newcomer: nothing else.
    sentinel = cluster.connect(a)
    sentinel.send(b"sentinel\n")
    for client in (*senders, *readers):
        client.expect(b"client 4: sentinel\n")
    for node in (a, b):
        node.waitForLog(r"\[cluster\] caught up with the cluster: replayed \d+ lines")


@pytest.mark.cluster
@pytest.mark.live
def test_idsNeverReusedWhenRedisComesBackEmpty(tmp_path: Path) -> None:
    """
    Redis, keeping nothing on disk, restarts empty: the next newcomers get
    the ids after those handed out before, on the nodes that had seen them
    and on a node started after the restart, which had seen none.
    """
    redis = RedisServer(tmp_path / "redis", "--appendonly", "no")
    cluster = Cluster(tmp_path, redis)
    try:
        a, b = cluster.start(2)
        for node in (a, b, a):
            cluster.connect(node)  # clients 0, 1 and 2
        redis.stop()
        redis.start()
        assert redis.cli("DBSIZE") == "0"
        for node in (a, b):
            node.waitForLog(r"\[cluster\] back in the cluster")
        (c,) = cluster.start(1)
        for node in (c, b, a):
            cluster.connect(node)  # clients 3, 4 and 5, seen arriving by all
    finally:
        cluster.stop()
        redis.kill()


@pytest.mark.cluster
@pytest.mark.live
def test_killedNodeClientsAnnouncedGoneOnce(cluster: Cluster) -> None:
    """
    The clients of a node that is killed are announced gone to the
    survivors, once, the burial logged by one of them, and the others chat
    on.
    """
    a, b, c = cluster.start(3)
    a0 = cluster.connect(a)
    cluster.connect(b)
    cluster.connect(b)
    c3 = cluster.connect(c)
    b.crash()
    for survivor in (a0, c3):
        survivor.expect(wire.left(1) + wire.left(2))

    def buried() -> int:
        logs = a.logText() + c.logText()
        return len(re.findall(r"node \w+ is gone: announced its 2 clients", logs))

    waitFor(buried, "a survivor to log the burial")
    a0.send(b"still here\n")
    c3.expect(b"client 0: still here\n")
    c3.send(b"sentinel\n")
    a0.expect(b"client 3: sentinel\n")
    assert buried() == 1


@pytest.mark.cluster
@pytest.mark.live
def test_stoppedNodeSaysGoodbye(cluster: Cluster) -> None:
    """
    A node that is stopped tells its clients it is shutting down, announces
    them gone to the other nodes, and logs that it left the cluster.
    """
    a, b = cluster.start(2)
    a0 = cluster.connect(a)
    b1 = cluster.connect(b)
    cluster.connect(b)
    assert b.stop() == 0
    b1.expect(wire.SHUTTING_DOWN)
    a0.expect(wire.left(1) + wire.left(2))
    assert "[cluster] left the cluster" in b.logText()


@pytest.mark.cluster
@pytest.mark.live
def test_stalledNodeTakenForDeadDisconnectsItsClients(cluster: Cluster) -> None:
    """
    A node that stops answering (SIGSTOP) longer than the presence TTL is
    buried by the others; when it wakes up, what its clients sent meanwhile
    does not reach anyone (they were announced gone), its clients are told
    and disconnected, and it serves new clients as a new node.
    """
    a, b = cluster.start(2)
    a0 = cluster.connect(a)
    b1 = cluster.connect(b)
    a.process.send_signal(signal.SIGSTOP)
    try:
        b1.expect(wire.left(0))
        a0.send(b"too late\n")
    finally:
        a.process.send_signal(signal.SIGCONT)
    assert a0.readToEnd() == wire.EXPELLED
    a.waitForLog(r"\[cluster\] the cluster took this node for dead")
    a2 = Client(a.port)
    b1.expect(wire.arrived(2))
    a2.send(b"new here\n")
    b1.expect(b"client 2: new here\n")
    a2.send(b"sentinel\n")
    b1.expect(b"client 2: sentinel\n")
    a2.close()


@pytest.mark.cluster
@pytest.mark.live
@pytest.mark.parametrize(
    ("arguments", "database", "reason"),
    [
        (("--requirepass", "secret"), 0, "NOAUTH Authentication required."),
        (("--databases", "16"), 99, "ERR DB index is out of range"),
    ],
    ids=["password", "database"],
)
def test_refusingRedisLoggedWithItsReason(
    tmp_path: Path, arguments: tuple[str, ...], database: int, reason: str
) -> None:
    """
    A Redis that turns the node down (a password needed, a database it has
    not) is logged with its reason, not as unreachable, and newcomers are
    told there is no cluster.
    """
    redis = RedisServer(tmp_path / "redis", *arguments)
    node = Server(tmp_path, "--redis", f"redis://127.0.0.1:{redis.port}/{database}")
    try:
        expected = f"turned the connection down: {reason};"
        waitFor(lambda: expected in node.logText(), expected)
        newcomer = Client(node.port)
        assert newcomer.readToEnd() == wire.NO_CLUSTER
        assert "cannot reach" not in node.logText()
    finally:
        node.kill()
        redis.kill()


@pytest.mark.cluster
@pytest.mark.live
def test_notRedisIsAClearErrorLine(tmp_path: Path) -> None:
    """
    A server at the Redis address that is not Redis is logged as such in one
    line, with no traceback and nothing critical.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        server = Server(tmp_path, "--redis", f"redis://127.0.0.1:{port}/0")
        try:
            peer, _ = listener.accept()
            with peer:
                peer.recv(1024)
                peer.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
                expected = "turned the connection down: not a Redis server"
                waitFor(lambda: expected in server.logText(), expected)
            text = server.logText()
        finally:
            server.kill()
    assert "CRITICAL" not in text
    assert "Traceback" not in text
