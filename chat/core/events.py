"""
The log events that more than one part of the server writes: listening,
a client's arrival, a relay, a departure.  Each has its text and category
here alone, so the room, the service and C{mini_serv}'s handover, which
logs what its start-up relay did, write them alike.

Each function logs one event to C{log}, with the fields the text names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twisted.logger import Logger


def listening(log: Logger, kind: str, address: str, what: str = "") -> None:
    """
    The server listens on C{address}, a listener of C{kind} (C{tcp},
    C{ssl}, C{unix}); C{what} says what is served there, when it is not the
    room itself (C{web}, C{metrics}).
    """
    log.info(
        "listening on {kind} {address}{what}",
        category="start",
        kind=kind,
        address=address,
        what=f" ({what})" if what else "",
    )


def connected(log: Logger, clientId: int, peer: str, via: str = "") -> None:
    """
    Client C{clientId} is in the room, connected from C{peer}, through
    C{via} (C{"web"}) when it is not a plain TCP connection.
    """
    log.info(
        "client {clientId} connected from {peer}{via}",
        category="STATE",
        clientId=clientId,
        peer=peer,
        via=f" ({via})" if via else "",
    )


def relayed(log: Logger, sender: int, lines: list[bytes], recipients: int) -> None:
    """
    Client C{sender}'s C{lines} went to C{recipients} others: the log file
    writes a line of its own for each (L{chat.app.log}).
    """
    log.info(
        "client {sender} sent {count} lines to {recipients} clients",
        category="RX",
        sender=sender,
        count=len(lines),
        recipients=recipients,
        relayedLines=lines,
    )


def disconnected(log: Logger, clientId: int, why: str) -> None:
    """Client C{clientId}'s connection is gone, for C{why}."""
    log.info(
        "client {clientId} disconnected ({why})",
        category="STATE",
        clientId=clientId,
        why=why,
    )
