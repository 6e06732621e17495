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
from enum import Flag

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from chat.core.interfaces import IReadGate


class Hold(Flag):
    """Why a client's input is not read."""

    FLOOD = 1
    """Flood control: the client's allowance is spent."""
    WAITING_FOR_ID = 2
    """The client is not in the room yet."""
    CLUSTER = 4
    """The cluster's queue for Redis is full."""
    SHUTDOWN = 8
    """The server is shutting down."""
    CONSUMER = 16
    """Paused through the protocol's own producer API."""
    COMMAND = 32
    """A command of the client's waits for its answer (from the cluster)."""
    LOGIN = 64
    """The client's login is being checked."""


@implementer(IReadGate)
class ReadGate:
    """
    Pauses a transport while any reason holds, and resumes it, then calls
    C{opened}, when the last one is released.

    @ivar holds: the reasons holding the gate now, together.
    """

    __slots__ = ("_transport", "_opened", "holds")

    def __init__(self, transport: IPushProducer, opened: Callable[[], None]) -> None:
        self._transport = transport
        self._opened = opened
        self.holds = Hold(0)

    @property
    def open(self) -> bool:
        """Whether input is read (no reason holds)."""
        return not self.holds

    def hold(self, reason: Hold) -> None:
        if not self.holds:
            self._transport.pauseProducing()
        self.holds |= reason

    def release(self, reason: Hold) -> None:
        if reason not in self.holds:
            return
        self.holds &= ~reason
        if not self.holds:
            self._transport.resumeProducing()
            self._opened()
