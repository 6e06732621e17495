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

What a client is told alone (answers to its commands, its history) goes
to its send queue at once, after what the round has posted for it so far:
the round never gathers output for one client, and the SendQ limits see
every answer as it is made.
"""

from __future__ import annotations

from collections.abc import Mapping

from twisted.internet.interfaces import IReactorTime

from chat.core.interfaces import IClient
from chat.core.sendq import Chunk

Posted = list[tuple[IClient | None, bytes]]
"""What was posted, in order, each with the client it came from (if any)."""


class Round:
    """The output of one reactor iteration for C{clients}."""

    def __init__(self, clock: IReactorTime, clients: Mapping[int, IClient]) -> None:
        self._clock = clock
        self._clients = clients
        self._posted: Posted = []
        self._sentFrom: dict[IClient, int] = {}
        self._due = False

    def post(self, data: bytes, origin: IClient | None) -> None:
        """Send C{data} to every client but C{origin} when the round ends."""
        if not self._due:
            self._due = True
            self._clock.callLater(0, self.flush)
        self._posted.append((origin, data))

    def tell(self, client: IClient, pieces: tuple[Chunk, ...]) -> None:
        """
        Send C{pieces} to C{client} alone, now, after what was posted for it
        in this round so far; it stops at the first that gets it cut off.
        """
        sendq, clients = client.sendq, self._clients
        self._catchUp(client)
        for piece in pieces:
            if clients.get(client.clientId) is not client:
                return
            sendq.write(piece)

    def _catchUp(self, client: IClient) -> None:
        """Send C{client} now what was posted for it in this round so far."""
        posted = self._posted
        if not posted:
            return
        start = self._sentFrom.get(client, 0)
        self._sentFrom[client] = len(posted)
        mine = [data for origin, data in posted[start:] if origin is not client]
        if mine:
            client.sendq.write(b"".join(mine))

    def joined(self, client: IClient) -> None:
        """C{client} gets only what is posted from now on in this round."""
        self._sentFrom[client] = len(self._posted)

    def flush(self) -> None:
        """Send what this round has posted, now."""
        self._due = False
        posted, self._posted = self._posted, []
        sentFrom, self._sentFrom = self._sentFrom, {}
        if not posted:
            return
        special = {origin for origin, _ in posted}
        special.update(sentFrom)
        everything = b"".join([data for _, data in posted])
        # A copy: a write may get its client cut off, out of the room.
        for client in list(self._clients.values()):
            if client not in special:
                client.sendq.write(everything)
            else:
                start = sentFrom.get(client, 0)
                mine = [d for origin, d in posted[start:] if origin is not client]
                if mine:
                    client.sendq.write(b"".join(mine))
