"""
The read gate: one place that decides whether a client's input is read.

Several parts of the server stop reading from a client for reasons of
their own: flood control until the client's allowance refills, the room
until the client has an id, the cluster while its queue for Redis is full,
the server while it shuts down.  Each holds the gate with its reason and
releases that reason alone; reading resumes only when no reason holds, so
one part ending its hold never resumes reading that another still holds.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from twisted.internet.interfaces import IPushProducer


class Hold(Enum):
    """Why a client's input is not read."""

    FLOOD = "flood control"
    WAITING_FOR_ID = "waiting for an id"
    CLUSTER = "cluster queue full"
    SHUTDOWN = "shutting down"
    CONSUMER = "paused by its consumer"
    COMMAND = "waiting for the answer to a command"
    LOGIN = "checking a login"


class ReadGate:
    """
    Pauses a transport while any reason holds, and resumes it, then calls
    C{opened}, when the last one is released.

    @ivar holds: the reasons holding the gate now.
    """

    __slots__ = ("_transport", "_opened", "holds")

    def __init__(self, transport: IPushProducer, opened: Callable[[], None]) -> None:
        self._transport = transport
        self._opened = opened
        self.holds: set[Hold] = set()

    @property
    def open(self) -> bool:
        """Whether input is read (no reason holds)."""
        return not self.holds

    def hold(self, reason: Hold) -> None:
        if not self.holds:
            self._transport.pauseProducing()
        self.holds.add(reason)

    def release(self, reason: Hold) -> None:
        if reason not in self.holds:
            return
        self.holds.remove(reason)
        if not self.holds:
            self._transport.resumeProducing()
            self._opened()
