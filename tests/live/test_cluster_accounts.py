"""
Accounts (C{--auth}) across a cluster with real nodes: the sessions of one
account on two nodes are one person to everyone, as on one server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.core import wire
from tests.support.accounts import chatPasswd, login
from tests.support.livecluster import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.live]


def test_sessionsOnTwoNodesAreOnePerson(cluster: Cluster, tmp_path: Path) -> None:
    """
    Alice logs in on node A and on node B, with bob on A: bob is told of
    her once, sees her lines from either session as hers, and is told she
    left only when her last session goes; /who lists her once, her sessions
    see each other's lines, and both receive a private message to her.
    """
    users = tmp_path / "users"
    chatPasswd(users, "alice", "wonderland")
    chatPasswd(users, "bob", "builder")
    a, b = cluster.start(2, "--auth", str(users))
    laptop = login(a.port, b"alice", b"wonderland")
    laptop.send(b"/who\n")
    laptop.expect(b"server: 1 client: alice\n")
    bob = login(a.port, b"bob", b"builder")
    laptop.expect(wire.arrived(1) + b"server: client 1 is now bob\n")
    phone = login(b.port, b"alice", b"wonderland")
    for each in (laptop, bob, phone):
        cluster.clients.append(each)
    phone.send(b"/who\nfrom the phone\n")
    phone.expect(b"server: 2 clients: alice, bob\n")
    bob.expect(b"alice: from the phone\n")  # nothing came before it
    laptop.expect(b"alice: from the phone\n")
    laptop.send(b"from the laptop\n")
    bob.expect(b"alice: from the laptop\n")
    phone.expect(b"alice: from the laptop\n")
    bob.send(b"/msg alice psst\n/who\n")
    bob.expect(b"server: 2 clients: alice, bob\n")
    laptop.expect(b"bob (private): psst\n")
    phone.expect(b"bob (private): psst\n")
    laptop.send(b"/quit battery low\n")
    assert laptop.readToEnd() == b""
    phone.send(b"still here\n")
    bob.expect(b"alice: still here\n")  # no leave notice before it
    phone.close()
    bob.expect(b"server: alice just left\n")
    bob.send(b"/who\n")
    bob.expect(b"server: 1 client: bob\n")


def test_deadNodesSessionLeavesNoNotice(cluster: Cluster, tmp_path: Path) -> None:
    """
    A node that dies with one of alice's sessions is buried without a leave
    notice for her while her session on the other node stays; when that one
    goes too, bob is told she left.
    """
    users = tmp_path / "users"
    chatPasswd(users, "alice", "wonderland")
    chatPasswd(users, "bob", "builder")
    a, b = cluster.start(2, "--auth", str(users))
    laptop = login(a.port, b"alice", b"wonderland")
    laptop.send(b"/who\n")
    laptop.expect(b"server: 1 client: alice\n")
    bob = login(a.port, b"bob", b"builder")
    laptop.expect(wire.arrived(1) + b"server: client 1 is now bob\n")
    phone = login(b.port, b"alice", b"wonderland")
    for each in (laptop, bob, phone):
        cluster.clients.append(each)
    phone.send(b"on the phone\n")
    bob.expect(b"alice: on the phone\n")
    b.crash()
    a.waitForLog(r"node \w+ is gone: announced its 1 clients as left")
    laptop.send(b"still here\n")
    bob.expect(b"alice: still here\n")  # no leave notice before it
    laptop.close()
    bob.expect(b"server: alice just left\n")
