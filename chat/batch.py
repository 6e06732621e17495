"""
The round: what a room posts during one reactor iteration, sent once the
iteration is over.

Everything posted while the reactor handles one round of events (lines,
arrival and leave notices) is kept in order in one list, and sent once the
round is over: each client receives one C{send()} with everything meant for
it.  Most clients receive the whole round, joined once into a single bytes
object; only the clients that posted in it (who must not get their own lines
back), the ones that joined during it (who must not get what came before
them) and the ones told something alone need a batch of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from twisted.internet.interfaces import IReactorTime

from chat.interfaces import IClient

Posted = list[tuple[IClient | None, bytes]]
"""What was posted, in order, each with the client it came from (if any)."""


class Round:
    """
    The output of one reactor iteration for C{clients}; C{delivered} is
    called after each round with the clients that have output held for
    them (for the SendQ limits).
    """

    def __init__(
        self,
        clock: IReactorTime,
        clients: Mapping[int, IClient],
        delivered: Callable[[list[IClient]], None],
    ) -> None:
        self._clock = clock
        self._clients = clients
        self._delivered = delivered
        self._posted: Posted = []
        self._joinedAt: dict[IClient, int] = {}
        self._told: dict[IClient, list[tuple[int, bytes]]] = {}
        self._due = False

    def post(self, data: bytes, origin: IClient | None) -> None:
        """Send C{data} to every client but C{origin} when the round ends."""
        self._schedule()
        self._posted.append((origin, data))

    def tell(self, client: IClient, data: bytes) -> None:
        """
        Send C{data} to C{client} alone when the round ends, in its place
        among what is posted for everyone.
        """
        self._schedule()
        self._told.setdefault(client, []).append((len(self._posted), data))

    def joined(self, client: IClient) -> None:
        """C{client} gets only what is posted from now on in this round."""
        self._joinedAt[client] = len(self._posted)

    def _schedule(self) -> None:
        if not self._due:
            self._due = True
            self._clock.callLater(0, self.flush)

    def flush(self) -> None:
        """Send what this round has posted, now."""
        self._due = False
        posted, self._posted = self._posted, []
        joinedAt, self._joinedAt = self._joinedAt, {}
        told, self._told = self._told, {}
        if not posted and not told:
            return
        special = {origin for origin, _ in posted}
        special.update(joinedAt)
        special.update(told)
        everything = b"".join([data for _, data in posted])
        backedUp = []
        for client in self._clients.values():
            sendq = client.sendq
            if client not in special:
                sendq.write(everything)
            else:
                start = joinedAt.get(client, 0)
                if client in told:
                    mine = _merge(posted, start, client, told[client])
                else:
                    mine = [d for origin, d in posted[start:] if origin is not client]
                if mine:
                    sendq.write(b"".join(mine))
            if sendq.size:
                backedUp.append(client)
        if backedUp:
            self._delivered(backedUp)


def _merge(
    posted: Posted, start: int, client: IClient, told: list[tuple[int, bytes]]
) -> list[bytes]:
    """
    What C{client} receives of C{posted} from C{start} on, with what it
    alone was told, each piece at the place in the round it was told at.
    """
    mine: list[bytes] = []
    notes = iter(told)
    note = next(notes, None)
    for at in range(start, len(posted)):
        while note is not None and note[0] <= at:
            mine.append(note[1])
            note = next(notes, None)
        origin, data = posted[at]
        if origin is not client:
            mine.append(data)
    while note is not None:
        mine.append(note[1])
        note = next(notes, None)
    return mine
