"""
The SendQ limits: a client whose output held past the hard limit, or past
the soft one for too long, is cut off, whatever door it came through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet.interfaces import IDelayedCall, IReactorTime

from chat.core.interfaces import IClient

if TYPE_CHECKING:
    from chat.core.room import ChatRoom


class SendQLimits:
    """The SendQ limits of a room's clients, checked on every write."""

    def __init__(self, room: ChatRoom, clock: IReactorTime) -> None:
        self._room = room
        self._clock = clock
        self._overSoftLimit: dict[IClient, IDelayedCall] = {}
        self._checkOne = self._check
        """The check every client's send queue calls: one for them all."""

    def watch(self, client: IClient) -> None:
        """Check C{client}'s output from now on, while the limits are on."""
        limits = self._room.limits
        if limits.sendqHard:
            client.sendq.watch(
                min(limits.sendqSoft, limits.sendqHard), self._checkOne, client
            )

    def forget(self, client: IClient) -> None:
        """C{client} has left the room: its output is checked no more."""
        timer = self._overSoftLimit.pop(client, None)
        if timer is not None:
            timer.cancel()

    def _check(self, client: IClient) -> None:
        """
        Cut C{client} off if the output held for it is past the hard limit,
        or past the soft one for longer than allowed: its send queue asks
        after every write that leaves it past either.
        """
        room = self._room
        limits, size = room.limits, client.sendq.size
        if not limits.sendqHard or client.clientId not in room.clients:
            return
        if size > limits.sendqHard:
            room.departures.kick(
                client,
                f"SendQ exceeded: {size} bytes pending, hard limit {limits.sendqHard}",
            )
        elif size > limits.sendqSoft and client not in self._overSoftLimit:
            self._overSoftLimit[client] = self._clock.callLater(
                limits.sendqSoftSeconds,
                self._softLimitExpired,
                client,
                client.sendq.drains,
            )

    def _softLimitExpired(self, client: IClient, drains: int) -> None:
        """
        C{client} went past the soft limit C{sendqSoftSeconds} ago: cut it
        off unless its output has drained since.
        """
        del self._overSoftLimit[client]
        limits, sendq = self._room.limits, client.sendq
        if sendq.drains != drains:
            # It drained since: a new period starts if it is past again.
            self._check(client)
        elif sendq.size > limits.sendqSoft:
            self._room.departures.kick(
                client,
                f"SendQ exceeded: {sendq.size} bytes pending,"
                f" past the soft limit {limits.sendqSoft}"
                f" for {limits.sendqSoftSeconds:g} s",
            )
