"""
Nicks that look alike are one nick across the nodes of a cluster (real
nodes and Redis).
"""

from __future__ import annotations

import pytest

from chat.core import wire
from tests.support.livecluster import Cluster


@pytest.mark.cluster
@pytest.mark.live
def test_lookAlikeNickTakenAcrossNodes(cluster: Cluster) -> None:
    """
    A nick held on one node makes its look-alikes taken on another; once
    its holder has left, a look-alike is free again.
    """
    one, two = cluster.start(2, "--commands")
    a = cluster.connect(one)
    b = cluster.connect(two)
    a.send(b"/nick alice\n")
    b.expect(b"server: client 0 is now alice\n")
    b.send(b"/nick aIice\n/nick ALlCE\nsentinel\n")
    b.expect(wire.nickTaken(b"aIice") + wire.nickTaken(b"ALlCE"))
    a.expect(b"client 1: sentinel\n")
    a.close()
    b.expect(b"server: alice just left\n")
    b.send(b"/nick aIice\n/who\n")
    b.expect(b"server: 1 client: aIice\n")
