"""
Limits that keep one client from hurting the others: how many clients, how
many from one source, how fast one may send.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from twisted.internet.interfaces import IReactorTime

from chat.core.addresses import describePeer

if TYPE_CHECKING:
    from twisted.logger import Logger

    from chat.core.interfaces import IClient

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """
    The limits of a room; C{0} (or L{None} for the rates) turns one off.

    @ivar sendqHard: bytes of output held for a client past which it is
        disconnected at once.
    @ivar sendqSoft: bytes of output held for a client past which it is
        disconnected if it stays past them for C{sendqSoftSeconds}.
    @ivar floodRate: lines per second a client may send before reading from
        it is paused.
    @ivar floodBurst: lines a client may send at once before the rate applies.
    @ivar maxClients: clients connected at once; one more is turned away.
    @ivar maxPerAddress: clients connected at once from one IP address.
    @ivar idleTimeout: seconds a client may stay silent.
    """

    sendqHard: int = 32 * MiB
    sendqSoft: int = 8 * MiB
    sendqSoftSeconds: float = 60.0
    floodRate: float | None = None
    floodBurst: int = 10
    maxClients: int = 10000
    maxPerAddress: int = 0
    idleTimeout: float = 0.0


class TokenBucket:
    """
    A client's allowance of lines: C{rate} per second, at most C{burst} at
    once.  Lines past the allowance are not refused: the client waits
    (L{wait}) until they are allowed.  A line may cost more than what is
    left (a long line relayed in pieces): the allowance then goes below
    zero, and the client waits that much longer.
    """

    __slots__ = ("_rate", "_burst", "_clock", "_tokens", "_updated")

    def __init__(self, rate: float, burst: int, clock: IReactorTime) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock.seconds()

    def available(self) -> float:
        """Lines allowed now."""
        now = self._clock.seconds()
        self._tokens = min(
            self._burst, self._tokens + (now - self._updated) * self._rate
        )
        self._updated = now
        return self._tokens

    def spend(self, lines: int) -> None:
        """Take C{lines} from the allowance."""
        self._tokens -= lines

    def wait(self) -> float:
        """Seconds until one more line is allowed."""
        return max(0.0, (1 - self._tokens) / self._rate)


class FloodWarnings:
    """
    The WARN line that says flood control holds a client back: at most one
    a client every L{PERIOD} seconds, however often it is held back (each
    time is counted in C{chat_throttled_total}).
    """

    PERIOD = 60.0
    """Seconds after a client's warning during which it gets no other."""

    def __init__(self, log: Logger, clock: IReactorTime) -> None:
        self._log = log
        self._clock = clock
        # Keyed by the client itself, so that a client that left is
        # forgotten, and clients that have no id yet are told apart.
        self._warned: WeakKeyDictionary[IClient, float] = WeakKeyDictionary()

    def held(self, client: IClient, limits: Limits) -> None:
        """
        Flood control, set by C{limits}, has just started holding C{client}
        back.
        """
        now = self._clock.seconds()
        last = self._warned.get(client)
        if last is not None and now - last < self.PERIOD:
            return
        self._warned[client] = now
        self._log.warn(
            "client {clientId} from {peer} held back by flood control"
            " (--flood-rate {rate}, --flood-burst {burst})",
            category="STATE",
            clientId=client.clientId,
            peer=describePeer(client.transport),
            rate=f"{limits.floodRate:g}",
            burst=limits.floodBurst,
        )


def raiseOpenFileLimit(needed: int) -> tuple[int, int]:
    """
    Raise this process's soft limit on open files to C{needed}, or as far
    as the hard limit allows.

    @return: the soft limit now in force and the hard limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft, hard
