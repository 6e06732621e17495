"""
The node's place in the cluster, as one state machine: connecting, joining,
in the cluster, away (Redis lost, queueing), returning, leaving.

  - C{connecting}: started, never in the cluster yet (or expelled and
    waiting for Redis); new connections are turned away.
  - C{joining}: Redis answers; the node, under a new name, is announcing
    itself.
  - C{member}: in the cluster; ids are handed out, entries sent at once, heartbeats.
  - C{away}: Redis lost; local clients are served, what they send is queued.
  - C{returning}: Redis is back; the node announces itself under its old
    name, unless the others have buried it meanwhile (then it is expelled:
    its clients are disconnected, it joins again as a new node).
  - C{leaving}: stopping; what is queued goes out, then the node retires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from automat import TypeMachineBuilder
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from chat.cluster.appender import Appender
from chat.cluster.commands import NodeCommands
from chat.cluster.link import Link
from chat.cluster.presence import Presence
from chat.cluster.reader import StreamReader
from chat.core.interfaces import ILocalRoom

STOP_GRACE = 5.0
"""Seconds a stopping node waits for its queue to reach Redis."""


class NotInClusterError(Exception):
    """The node is not in the cluster now: no id can be handed out."""


class Membership(Protocol):
    """The inputs of the machine: what happens to the node."""

    def start(self) -> None:
        """Begin: connect to Redis."""

    def linkUp(self) -> None:
        """The command connection is (again) ready."""

    def linkDown(self) -> None:
        """The command connection is lost."""

    def rejoined(self, lastId: bytes) -> None:
        """Redis has this node on record as present; C{lastId} is the
        stream's last entry."""

    def expelled(self) -> None:
        """The other nodes took this one for dead and buried it."""

    def stillAway(self) -> None:
        """A presence TTL has passed since L{start}."""

    def isAccepting(self) -> bool:
        """Whether a new client can have an id now."""

    def join(self, account: bytes | None) -> Deferred[int]:
        """A new local client's id (see L{chat.core.interfaces.IPeers.join})."""

    def stop(self) -> Deferred[None]:
        """Leave the cluster (see L{chat.core.interfaces.IPeers.stop})."""


@dataclass(eq=False)
class Node:
    """What the machine acts on: the node's parts, and its room."""

    room: ILocalRoom
    roomName: str
    link: Link
    commands: NodeCommands
    appender: Appender
    reader: StreamReader
    presence: Presence
    clock: IReactorTime
    log: Logger
    where: str
    joining: set[int] = field(default_factory=set)
    """Ids handed out whose arrival has not been delivered here yet."""
    accounts: dict[int, tuple[bytes, bool]] = field(default_factory=dict)
    """
    The local clients logged in to an account: the account, and whether
    the client is another session of one that was here already.
    """
    downSince: float = 0.0
    refusal: str | None = None
    """Why Redis turned the last connection down, until one is accepted."""

    def refused(self, reason: str) -> None:
        """Redis turned a connection down: say why, once a reason."""
        if reason != self.refusal:
            self.refusal = reason
            self.log.error(
                "{where} turned the connection down: {reason};"
                " new connections are turned away until it accepts",
                category="cluster",
                where=self.where,
                reason=reason,
            )

    def known(self) -> list[int]:
        """The ids this node knows as its clients, present or leaving."""
        return [*self.room.localIds(), *self.joining, *self.appender.leaving()]

    def highestId(self) -> int:
        """
        The highest client id this node has seen, in the stream, in presence
        or among its own clients (-1 for none): Redis hands out none at or
        below it, even when it has come back without its data.
        """
        ids = [self.reader.highestId, self.presence.highestId, *self.known()]
        return max(ids)

    def closeLinks(self) -> Deferred[None]:
        stopping = [self.link.stop(), self.reader.stop()]
        return defer.gatherResults(stopping).addCallback(lambda _: None)


builder = TypeMachineBuilder(Membership, Node)
idle = builder.state("idle")
connecting = builder.state("connecting")
joining = builder.state("joining")
member = builder.state("member")
away = builder.state("away")
returning = builder.state("returning")
leaving = builder.state("leaving")


@idle.upon(Membership.start).to(connecting)
def _begin(inputs: Membership, node: Node) -> None:
    node.log.info(
        "joining room {room} through {where} as node {node}",
        category="cluster",
        room=node.roomName,
        where=node.where,
        node=node.commands.node,
    )
    node.link.start(inputs.linkUp, inputs.linkDown, node.refused)
    node.reader.start(node.refused)
    node.clock.callLater(node.presence.ttl, inputs.stillAway)


@connecting.upon(Membership.stillAway).loop()
def _cannotReach(inputs: Membership, node: Node) -> None:
    if node.refusal is None:
        node.log.warn(
            "cannot reach {where} yet: new connections are turned away"
            " until it answers",
            category="cluster",
            where=node.where,
        )


@connecting.upon(Membership.linkUp).to(joining)
@away.upon(Membership.linkUp).to(returning)
def _rejoin(inputs: Membership, node: Node) -> None:
    node.refusal = None
    node.commands.loadScripts()
    reply = node.commands.rejoin(node.presence.ttl, node.highestId(), node.known())

    def rejoined(answer: tuple[int, bytes]) -> None:
        stale, lastId = answer
        if stale == -1:
            inputs.expelled()
            return
        if stale:
            node.log.warn(
                "announced {count} clients gone whose joining was cut short",
                category="cluster",
                count=stale,
            )
        inputs.rejoined(lastId)

    reply.addCallbacks(rejoined, node.commands.failed)


@joining.upon(Membership.rejoined).to(member)
def _joined(inputs: Membership, node: Node, lastId: bytes) -> None:
    node.log.info(
        "joined the cluster: room {room}, node {node}",
        category="cluster",
        room=node.roomName,
        node=node.commands.node,
    )
    node.reader.startAt(lastId)
    node.appender.resume()
    node.presence.start()


@returning.upon(Membership.rejoined).to(member)
def _back(inputs: Membership, node: Node, lastId: bytes) -> None:
    node.log.info(
        "back in the cluster after {away:.1f} s: sending {lines} queued lines",
        category="cluster",
        away=node.clock.seconds() - node.downSince,
        lines=node.appender.lines(),
    )
    node.appender.resume()
    node.presence.start()


@member.upon(Membership.linkDown).to(away)
def _lost(inputs: Membership, node: Node) -> None:
    node.downSince = node.clock.seconds()
    node.log.warn(
        "lost {where}: serving local clients, queueing what they send;"
        " new connections are turned away",
        category="cluster",
        where=node.where,
    )
    node.appender.pause()
    node.presence.stop()


@member.upon(Membership.expelled).to(joining)
@returning.upon(Membership.expelled).to(joining)
def _expel(inputs: Membership, node: Node) -> None:
    node.log.error(
        "the cluster took this node for dead (out of touch for more than"
        " {ttl} s): disconnecting its clients, joining again",
        category="cluster",
        ttl=node.presence.ttl,
    )
    node.presence.stop()
    # The clients first: whatever they still send is dropped with the queue.
    node.room.expel()
    node.accounts.clear()
    node.appender.drop()
    node.commands.renew()
    _rejoin(inputs, node)


@member.upon(Membership.join).loop()
def _number(inputs: Membership, node: Node, account: bytes | None) -> Deferred[int]:
    def numbered(reply: tuple[int, bytes, bool]) -> Deferred[int]:
        clientId, entryId, shared = reply
        node.joining.add(clientId)
        if account is not None:
            node.accounts[clientId] = (account, shared)

        def handOver(_: object) -> int:
            node.joining.discard(clientId)
            return clientId

        return node.reader.whenRead(entryId).addCallback(handOver)

    return node.commands.join(node.highestId(), account).addCallback(numbered)


@member.upon(Membership.stop).to(leaving)
def _leave(inputs: Membership, node: Node) -> Deferred[None]:
    node.presence.stop()
    drained = node.appender.drain(STOP_GRACE)

    def retire(sent: bool) -> Deferred[Any] | None:
        if not sent:
            _leftWithout(node)
            return None
        retired = node.commands.retire()
        retired.addCallbacks(
            lambda _: node.log.info("left the cluster", category="cluster"),
            lambda failed: node.log.warn(
                "could not retire: {failed}",
                category="cluster",
                failed=failed.getErrorMessage(),
            ),
        )
        return retired

    drained.addCallback(retire)
    return drained.addCallback(lambda _: node.closeLinks())


@connecting.upon(Membership.stop).to(leaving)
@joining.upon(Membership.stop).to(leaving)
@away.upon(Membership.stop).to(leaving)
@returning.upon(Membership.stop).to(leaving)
def _leaveWithout(inputs: Membership, node: Node) -> Deferred[None]:
    node.presence.stop()
    node.appender.endRound()
    _leftWithout(node)
    return node.closeLinks()


def _leftWithout(node: Node) -> None:
    node.log.warn(
        "left the cluster without {where}: {count} entries unsent;"
        " the other nodes will announce its clients gone",
        category="cluster",
        where=node.where,
        count=node.appender.entries(),
    )


@idle.upon(Membership.stop).to(leaving)
@leaving.upon(Membership.stop).loop()
def _stopped(inputs: Membership, node: Node) -> Deferred[None]:
    return defer.succeed(None)


member.upon(Membership.isAccepting).loop().returns(True)
for _state in (idle, connecting, joining, away, returning, leaving):
    _state.upon(Membership.isAccepting).loop().returns(False)


def _refuse(inputs: Membership, node: Node, account: bytes | None) -> Deferred[int]:
    return defer.fail(NotInClusterError("not in the cluster"))


for _state in (idle, connecting, joining, away, returning, leaving):
    _state.upon(Membership.join).loop()(_refuse)

# What may still come in states where it no longer matters: a stale
# expulsion (from before the node was renamed), the TTL since the start once
# the node is past connecting, and everything once it is leaving.
joining.upon(Membership.expelled).loop().returns(None)
connecting.upon(Membership.linkDown).loop().returns(None)
leaving.upon(Membership.linkUp).loop().returns(None)
leaving.upon(Membership.linkDown).loop().returns(None)
leaving.upon(Membership.rejoined).loop().returns(None)
leaving.upon(Membership.expelled).loop().returns(None)
for _state in (joining, member, away, returning, leaving):
    _state.upon(Membership.stillAway).loop().returns(None)
joining.upon(Membership.linkDown).to(connecting).returns(None)
returning.upon(Membership.linkDown).to(away).returns(None)

MembershipMachine = builder.build()
