"""
Admission: whether the room has a place for a new connection, whatever door
it came through, so that a limit set once holds at every door.

A connection takes a place as it is accepted (L{Admission.arrive}): it
counts against C{--max-clients} and, under its source (as L{sourceOf}
tells), against C{--max-per-ip} from then on, whether it becomes a client
of the room or is only holding a place while its door reads its request.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, NamedTuple

from twisted.internet.interfaces import IAddress

from chat.core import wire
from chat.core.addresses import describeAddress, sourceOf
from chat.core.interfaces import IClient
from chat.core.text import plural

if TYPE_CHECKING:
    from chat.core.room import ChatRoom


class Place:
    """
    A connection's place in the room, taken as it is accepted: counted
    against C{--max-clients} and, under C{host} (its source, as
    L{sourceOf} tells, or L{None}), against C{--max-per-ip}, whatever door
    it came through.
    """

    __slots__ = ("host",)

    def __init__(self, host: str | None) -> None:
        self.host = host


class Refusal(NamedTuple):
    """Why the room has no place for a new connection."""

    notice: bytes
    """What the connection is told."""
    why: str
    """What the log says."""
    reason: str
    """The reason's label in the metrics."""


class Admission:
    """
    The places of a room: those held by connections that are not clients
    yet, and the count of places of each source.
    """

    def __init__(self, room: ChatRoom) -> None:
        self._room = room
        self._perAddress: Counter[str] = Counter()
        self._held: set[Place] = set()

    def arrive(self, addr: IAddress | None) -> Place | Refusal:
        """
        A place in the room for a connection from C{addr} that was just
        accepted, at any door: it counts against the limits from now on,
        until a client takes it (L{take}) or it is given back
        (L{release}).  Or, when the room has no place for it, why not
        (logged and counted as a turned-away connection).
        """
        refusal = self._refusal(addr)
        if refusal is None:
            return self.place(addr)
        self._room.metrics.turnedAway(refusal.reason)
        self._room.log.warn(
            "turned away {peer}: {why}",
            category="STATE",
            peer=describeAddress(addr) if addr else "?",
            why=refusal.why,
        )
        return refusal

    def _refusal(self, addr: IAddress | None) -> Refusal | None:
        """Why the room has no place for a new connection from C{addr}, if not."""
        room = self._room
        if room.closing:
            return Refusal(wire.SHUTTING_DOWN, "shutting down", "shutting_down")
        if not room.peers.accepting:
            return Refusal(wire.NO_CLUSTER, "not in the cluster", "cluster")
        limit = room.limits.maxClients
        if len(room.clients) + len(room.lobby.waiting) + len(self._held) >= limit:
            return Refusal(wire.SERVER_FULL, f"server full ({limit} clients)", "full")
        host = sourceOf(addr)
        limit = room.limits.maxPerAddress
        if limit and host is not None and self._perAddress[host] >= limit:
            return Refusal(
                wire.TOO_MANY_FROM_ADDRESS,
                f"{plural(limit, 'client')} connected from {host} already",
                "per_ip",
            )
        return None

    def place(self, addr: IAddress | None) -> Place:
        """
        A place for a connection from C{addr}, counted from now on, whatever
        the limits say: for a connection let in elsewhere already.
        """
        place = Place(sourceOf(addr))
        if place.host is not None:
            self._perAddress[place.host] += 1
        self._held.add(place)
        return place

    def take(self, place: Place, client: IClient) -> None:
        """
        C{client} takes C{place}: it holds it from now on, as one of the
        room's clients, until it gives it back (L{vacate}).
        """
        self._held.remove(place)
        client.host = place.host

    def release(self, place: Place) -> None:
        """
        The connection in C{place} is gone: the place is free again, unless
        a client took it (the client gives it back as it leaves).
        """
        if place in self._held:
            self._held.remove(place)
            self._uncount(place.host)

    def vacate(self, client: IClient) -> None:
        """C{client} is leaving: its place under its source is free again."""
        host, client.host = client.host, None
        self._uncount(host)

    def _uncount(self, host: str | None) -> None:
        """A place taken by a connection from C{host} is free again."""
        if host is not None:
            self._perAddress[host] -= 1
            if not self._perAddress[host]:
                del self._perAddress[host]
