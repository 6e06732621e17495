"""
What the room counts for C{--metrics}: reasons and the null counter.

The room reports to an L{IMetrics} once per relayed chunk, connection or
disconnection, never per recipient.  Without C{--metrics} it reports to
L{NO_METRICS}, which does nothing; L{chat.app.prometheus} counts for real.
"""

from __future__ import annotations

from zope.interface import implementer

from chat.core.interfaces import IMetrics

TURNED_AWAY = ("full", "per_ip", "shutting_down", "cluster", "auth")
"""Why a connection was turned away, as C{chat_turned_away_total} labels it."""

DISCONNECTS = ("closed", "sendq", "idle", "kicked", "shutdown")
"""Why a client left, as C{chat_disconnects_total} labels it."""


@implementer(IMetrics)
class NoMetrics:
    """Counts nothing."""

    def connected(self) -> None:
        pass

    def relayed(self, lines: list[bytes], recipients: int) -> None:
        pass

    def deliveredRemote(self, data: bytes, recipients: int) -> None:
        pass

    def turnedAway(self, reason: str) -> None:
        pass

    def disconnected(self, reason: str) -> None:
        pass

    def throttled(self) -> None:
        pass


NO_METRICS = NoMetrics()
