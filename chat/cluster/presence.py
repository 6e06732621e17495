"""
Presence: every node refreshes a key with a TTL; a node whose key has
expired is buried by the first other node to notice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from chat.cluster.commands import NodeCommands

NODE_TTL = 3.0
"""Seconds a node stays alive for the others without a heartbeat."""


class Presence:
    """
    This node's heartbeat, while it is in the cluster, three times a TTL.

    A heartbeat also buries the nodes whose presence has expired: one script
    announces the clients they had on record as gone, forgets them and marks
    them expelled, so that it happens once.  Right after a Redis restart
    every presence may have lapsed: nobody is buried until this node has
    been back for a TTL, so that the others have time to come back too.

    @ivar highestId: the highest client id Redis had handed out at the last
        heartbeat, or at an earlier one if higher; -1 before any.
    """

    def __init__(
        self,
        commands: NodeCommands,
        clock: IReactorTime,
        log: Logger,
        expelled: Callable[[], None],
        ttl: float = NODE_TTL,
    ) -> None:
        self.ttl = ttl
        self._commands = commands
        self._clock = clock
        self._log = log
        self._expelled = expelled
        self._upSince = 0.0
        self.highestId = -1
        self._beating = False
        self._heartbeat = LoopingCall(self._beat)
        self._heartbeat.clock = clock

    def start(self) -> None:
        """Beat from now on: the node is (back) in the cluster."""
        self._upSince = self._clock.seconds()
        if not self._heartbeat.running:
            self._heartbeat.start(self.ttl / 3, now=False)

    def stop(self) -> None:
        """Beat no more."""
        if self._heartbeat.running:
            self._heartbeat.stop()

    def _beat(self) -> None:
        if self._beating:
            return
        self._beating = True
        mayBury = self._clock.seconds() - self._upSince >= self.ttl
        beat = self._commands.heartbeat(self.ttl, mayBury)
        beat.addCallbacks(self._beaten, self._commands.failed, (self._commands.node,))
        beat.addBoth(self._beatOver)

    def _beatOver(self, _: object) -> None:
        self._beating = False

    def _beaten(self, reply: list[Any], node: str) -> None:
        if node != self._commands.node:
            return  # this node has been renewed meanwhile
        status, *rest = reply
        if status == -1:
            self._expelled()
            return
        highest, *buried = rest
        self.highestId = max(self.highestId, int(highest))
        if status == 0:
            self._log.warn(
                "this node's presence had lapsed (Redis or this node stalled);"
                " no node is taken for dead for {ttl} s",
                category="cluster",
                ttl=self.ttl,
            )
            self._upSince = self._clock.seconds()
        for index in range(0, len(buried), 2):
            self._log.info(
                "node {node} is gone: announced its {count} clients as left",
                category="cluster",
                node=buried[index].decode(),
                count=int(buried[index + 1]),
            )
