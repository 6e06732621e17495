"""
Accounts (C{--auth}) across a cluster with real nodes: the sessions of one
account on two nodes are one person to everyone, as on one server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.accounts import (
    aliceAndBob,
    aliceThenBob,
    login,
    twoSessionsAreOnePerson,
)
from tests.support.live import Client
from tests.support.livecluster import Cluster, Node

pytestmark = [pytest.mark.cluster, pytest.mark.live]


def aliceOnBoth(cluster: Cluster, tmp_path: Path) -> tuple[Node, Node, list[Client]]:
    """
    Two nodes with logins: on the first alice (her laptop), then bob; on
    the second, alice again (her phone), just logged in.
    """
    a, b = cluster.start(2, "--auth", str(aliceAndBob(tmp_path)))
    laptop, bob = aliceThenBob(a.port, a.port)
    phone = login(b.port, b"alice", b"wonderland")
    cluster.clients += [laptop, bob, phone]
    return a, b, [laptop, bob, phone]


def test_sessionsOnTwoNodesAreOnePerson(cluster: Cluster, tmp_path: Path) -> None:
    """
    Alice on node A and on node B, with bob on A, is one person, as with
    two sessions on one server (L{twoSessionsAreOnePerson}).
    """
    _, _, clients = aliceOnBoth(cluster, tmp_path)
    twoSessionsAreOnePerson(*clients)


def test_deadNodesSessionLeavesNoNotice(cluster: Cluster, tmp_path: Path) -> None:
    """
    A node that dies with one of alice's sessions is buried without a leave
    notice for her while her session on the other node stays; when that one
    goes too, bob is told she left.
    """
    a, b, (laptop, bob, phone) = aliceOnBoth(cluster, tmp_path)
    phone.send(b"on the phone\n")
    bob.expect(b"alice: on the phone\n")
    b.crash()
    a.waitForLog(r"node \w+ is gone: announced its 1 clients as left")
    laptop.send(b"still here\n")
    bob.expect(b"alice: still here\n")  # no leave notice before it
    laptop.close()
    bob.expect(b"server: alice just left\n")
