"""
Chat for people (history, commands, logins) through real sockets: one server process,
and two nodes of a cluster for what the whole room must agree on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chat.core import wire
from chat.people.commands import HELP
from tests.support.live import DEADLINE, Client, StartServer, waitFor
from tests.support.livecluster import Cluster, Node


def tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


EMPTY_HISTORY = wire.historyStart(0) + wire.END_OF_HISTORY


@pytest.mark.live
def test_everyCommand(startServer: StartServer) -> None:
    """
    With C{--commands}, every command does what it says: /nick (taken,
    invalid, changed), //, /me, /msg, /who, /help, an unknown one, /quit
    with its reason; the log names the commands but never a private message.
    """
    server = startServer("--commands")
    a, b, c = server.connect(), server.connect(), server.connect()
    a.send(b"/nick alice\r\nhello\n//slash\n")
    for other in (b, c):
        other.expect(b"server: client 0 is now alice\nalice: hello\nalice: /slash\n")
    b.send(b"/nick ALICE\n/nick b@d\n/nick client9\n/nick bob\n")
    b.expect(wire.nickTaken(b"ALICE") + wire.INVALID_NICK * 2)
    for other in (a, c):
        other.expect(b"server: client 1 is now bob\n")
    c.send(b"/me waves\n/msg Alice psst\n/msg nobody x\n/who\n/help\n/frob\n")
    c.expect(
        wire.noSuchNick(b"nobody")
        + b"server: 3 clients: alice, bob, client 2\n"
        + HELP
        + wire.unknownCommand(b"/frob")
    )
    a.expect(b"* client 2 waves\nclient 2 (private): psst\n")
    b.expect(b"* client 2 waves\n")
    a.send(b"/quit see you\nnever relayed\n")
    assert a.readToEnd() == b""
    for other in (b, c):
        other.expect(b"server: alice just left (see you)\n")
    b.send(b"/nick alice\n")
    c.expect(b"server: bob is now alice\n")
    b.close()
    c.expect(b"server: alice just left\n")
    c.send(b"/who\n")  # what comes next is the answer: nothing came between
    c.expect(b"server: 1 client: client 2\n")
    waitFor(lambda: "client 1 is now alice" in server.logText(), "the log")
    log = server.logText()
    assert "[STATE] client 0 is now alice" in log
    assert "[CMD] client 2 ran /msg" in log
    assert "psst" not in log


@pytest.mark.live
def test_history(startServer: StartServer) -> None:
    """
    A newcomer is sent the last lines as they were delivered, nicks and
    actions as they were, bytes as they were, no private message, then the
    live chat.
    """
    server = startServer("--history", "3", "--commands")
    a = server.connect()
    a.expect(EMPTY_HISTORY)
    a.send(b"one\n/nick al\ntwo\n/me three\n\xff four\n/msg al private\n")
    a.expect(b"al (private): private\n")
    b = server.connect()
    b.expect(
        wire.historyStart(3)
        + b"al: two\n* al three\nal: \xff four\n"
        + wire.END_OF_HISTORY
    )
    a.send(b"live\n")
    b.expect(b"al: live\n")
    a.send(b"sentinel\n")
    b.expect(b"al: sentinel\n")


@pytest.mark.live
def test_optionsOffAreMiniServ(startServer: StartServer) -> None:
    """Without the options a slash line is a line and newcomers get nothing."""
    server = startServer()
    a, b = server.connect(), server.connect()
    a.send(b"/nick x\n/who\n")
    b.expect(b"client 0: /nick x\nclient 0: /who\n")
    c = server.connect()
    a.send(b"sentinel\n")
    c.expect(b"client 0: sentinel\n")


def aliceOnOne(cluster: Cluster) -> tuple[Node, Node, Client, Client]:
    """Two nodes; client 0, on the first, is alice; client 1 on the second."""
    one, two = cluster.start(2, "--commands")
    a, b = cluster.connect(one), cluster.connect(two)
    a.send(b"/nick alice\n")
    b.expect(b"server: client 0 is now alice\n")
    return one, two, a, b


@pytest.mark.cluster
@pytest.mark.live
def test_namesWhoMsgAcrossNodes(cluster: Cluster) -> None:
    """
    Across two nodes, a nick taken on one is taken on the other, /who lists
    the whole room, /msg reaches a nick on the other node, and a nick freed
    by /quit can be taken again.
    """
    _, two, a, b = aliceOnOne(cluster)
    a.send(b"hi\n")
    b.expect(b"alice: hi\n")
    b.send(b"/nick Alice\n/nick bob\nsentinel\n")
    b.expect(wire.nickTaken(b"Alice"))
    a.expect(b"server: client 1 is now bob\nbob: sentinel\n")
    b.send(b"/who\n/msg ALICE across\n")
    b.expect(b"server: 2 clients: alice, bob\n")
    a.expect(b"bob (private): across\n")
    a.send(b"/msg bob back\n")
    b.expect(b"alice (private): back\n")
    a.send(b"/quit bye\n")
    b.expect(b"server: alice just left (bye)\n")
    assert a.readToEnd() == b""
    c = Client(two.port)
    b.expect(wire.arrived(2))
    c.send(b"/nick alice\n/who\n")
    b.expect(b"server: client 2 is now alice\n")
    c.expect(b"server: 2 clients: bob, alice\n")


@pytest.mark.cluster
@pytest.mark.live
def test_nickFreedWhenNodeDies(cluster: Cluster) -> None:
    """
    The nicks of a node that dies are freed: its clients are announced gone
    by name and their nicks can be taken.
    """
    one, _, _, b = aliceOnOne(cluster)
    one.crash()
    b.expect(b"server: alice just left\n")
    b.send(b"/nick alice\n/who\n")
    b.expect(b"server: 1 client: alice\n")


@pytest.mark.cluster
@pytest.mark.live
def test_sameHistoryOnEveryNode(cluster: Cluster) -> None:
    """
    Newcomers on every node get the same history: a node started later reads
    it back from the stream, and each node's history holds the other's
    lines.
    """
    (one,) = cluster.start(1, "--history", "4")
    a = cluster.connect(one)
    a.expect(EMPTY_HISTORY)
    a.send(b"".join(b"line %d\n" % n for n in range(6)))
    waitFor(
        lambda: "line 5" in cluster.redis.cli("XRANGE", "chat:main:stream", "-", "+"),
        "the lines to be in the stream",
    )
    b = cluster.connect(one)
    expected = (
        wire.historyStart(4)
        + b"".join(b"client 0: line %d\n" % n for n in range(2, 6))
        + wire.END_OF_HISTORY
    )
    b.expect(expected)
    # A node that joins later reads the history back from the stream.
    (two,) = cluster.start(1, "--history", "4")
    c = cluster.connect(two)
    c.expect(expected)
    c.send(b"from two\n")
    for other in (a, b):
        other.expect(b"client 2: from two\n")
    # Read by node one from the stream, so in its history as well.
    for node in (one, two):
        newcomer = cluster.connect(node)
        newcomer.expect(
            wire.historyStart(4)
            + b"".join(b"client 0: line %d\n" % n for n in range(3, 6))
            + b"client 2: from two\n"
            + wire.END_OF_HISTORY
        )


@pytest.mark.live
def test_toolsAgainstChatMode(startServer: StartServer, tmp_path: Path) -> None:
    """chat-tester and chat-bench pass against --commands --history."""
    server = startServer("--commands", "--history", "50")
    for _ in range(2):  # the second run meets a full history
        tester = subprocess.run(
            [tool("chat-tester"), "--port", str(server.port), "--clients", "5"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=DEADLINE * 3,
        )
        assert tester.returncode == 0, tester.stdout + tester.stderr
    bench = subprocess.run(
        [tool("chat-bench"), "--target", f"127.0.0.1:{server.port}"]
        + ["-c", "10", "-s", "3", "-d", "0.5", "--warmup", "0.2", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE * 3,
    )
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert json.loads(bench.stdout)["ok"]


@pytest.mark.live
def test_limitsHoldForCommands(startServer: StartServer) -> None:
    """
    A command longer than --max-line is refused whole, one as long runs;
    under flood control every command is answered, in order, as the
    allowance refills (that commands spend it is shown in memory:
    test_commands.test_floodControlCountsCommands).
    """
    server = startServer(
        "--commands", "--max-line", "16", "--flood-rate", "2", "--flood-burst", "3"
    )
    a, b = server.connect(), server.connect()
    a.send(b"/nick " + b"n" * 12 + b"\n/nick " + b"n" * 10 + b"\n")
    a.expect(wire.LINE_TOO_LONG)
    b.expect(b"server: client 0 is now nnnnnnnnnn\n")
    a.send(b"/who\n" * 6 + b"/me done\n")
    a.expect(b"server: 2 clients: nnnnnnnnnn, client 1\n" * 6)
    b.expect(b"* nnnnnnnnnn done\n")


@pytest.mark.live
def test_garbageCommands(startServer: StartServer) -> None:
    """Bytes no command expects are answered, never crash or reach others."""
    server = startServer("--commands")
    a, b = server.connect(), server.connect()
    a.send(b"/\xff\x00\n/nick \xff\xfe\n/msg \x00 x\n/ \n//\n")
    a.expect(
        wire.unknownCommand(b"/\xff\x00")
        + wire.INVALID_NICK
        + wire.noSuchNick(b"\x00")
        + wire.unknownCommand(b"/")
    )
    b.expect(b"client 0: /\n")
    a.send(b"sentinel\n")
    b.expect(b"client 0: sentinel\n")
