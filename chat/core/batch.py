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

from collections.abc import Mapping, Sequence

from twisted.internet.interfaces import IReactorTime

from chat.core.interfaces import IClient, IMessageQueue
from chat.core.messages import Message, Messages
from chat.core.sendq import Chunk

Posted = list[tuple[IClient | None, bytes, Sequence[Message]]]
"""
What was posted, in order, each with the client it came from (if any) and,
in chat mode, its messages.
"""


class Round:
    """
    The output of one reactor iteration for C{clients}.

    In chat mode (L{messages}), the clients whose send queue reads messages
    (L{IMessageQueue}, L{reads}) are sent the messages of what is posted
    rather than its bytes; the whole round's, to those who get all of it,
    in one list shared by them all.
    """

    messages: Messages | None = None

    def __init__(self, clock: IReactorTime, clients: Mapping[int, IClient]) -> None:
        self._clock = clock
        self._clients = clients
        self._posted: Posted = []
        self._sentFrom: dict[IClient, int] = {}
        self._readers: set[IClient] = set()
        self._due = False

    def post(self, data: bytes, origin: IClient | None, local: bool = False) -> None:
        """
        Send C{data} to every client but C{origin} when the round ends;
        C{local}: to this room's alone, not its peers' (see L{Messages.posted}).
        """
        made = self.messages
        self._add(origin, data, made.posted(data, origin, local) if made else ())

    def postMessages(self, messages: Sequence[Message]) -> None:
        """
        Send C{messages}, made already (numbered by the peers), to the
        clients that read messages, but those they come from, when the
        round ends.
        """
        if messages:
            self._add(None, b"", messages)

    def _add(
        self, origin: IClient | None, data: bytes, messages: Sequence[Message]
    ) -> None:
        if not self._due:
            self._due = True
            self._clock.callLater(0, self.flush)
        self._posted.append((origin, data, messages))

    def reads(self, client: IClient) -> bool:
        """
        Whether C{client} is sent messages from now on (in chat mode, when
        its send queue reads them).
        """
        if self.messages is None or not IMessageQueue.providedBy(client.sendq):
            return False
        self._readers.add(client)
        return True

    def isReader(self, client: IClient) -> bool:
        """Whether C{client} is sent messages (L{reads})."""
        return client in self._readers

    def forget(self, client: IClient) -> None:
        """C{client} has left the room."""
        self._readers.discard(client)

    def tell(
        self,
        client: IClient,
        pieces: tuple[Chunk, ...],
        sender: IClient | None = None,
    ) -> None:
        """
        Send C{pieces} to C{client} alone, now, after what was posted for it
        in this round so far; it stops at the first that gets it cut off.
        A client that reads messages is sent those of each piece, from
        C{sender} when it is a private message.
        """
        sendq, clients = client.sendq, self._clients
        self._catchUp(client)
        made = self.messages if client in self._readers else None
        for piece in pieces:
            if clients.get(client.clientId) is not client:
                return
            if made is not None:
                sendq.writeMessages(made.told(bytes(piece), sender))
            else:
                sendq.write(piece)

    def tellMessages(
        self,
        client: IClient,
        messages: Sequence[Message],
        caughtUp: tuple[int, bool] | None = None,
    ) -> None:
        """
        Send C{messages}, made already, to C{client}, a reader, alone, now,
        after what was posted for it so far: first, with C{caughtUp}, that
        the messages after its id follow and whether they are complete.
        """
        self._catchUp(client)
        sendq, clients = client.sendq, self._clients
        if caughtUp is not None and clients.get(client.clientId) is client:
            sendq.writeCaughtUp(*caughtUp)
        if messages and clients.get(client.clientId) is client:
            sendq.writeMessages(messages)

    def _catchUp(self, client: IClient) -> None:
        """Send C{client} now what was posted for it in this round so far."""
        posted = self._posted
        if not posted:
            return
        start = self._sentFrom.get(client, 0)
        self._sentFrom[client] = len(posted)
        self._send(client, posted, start)

    def _send(self, client: IClient, posted: Posted, start: int) -> None:
        """Send C{client} what was posted from C{start} on by others."""
        if client in self._readers:
            clientId = client.clientId
            told = [
                m for _, _, made in posted[start:] for m in made if m.origin != clientId
            ]
            if told:
                client.sendq.writeMessages(told)
            return
        mine = [data for origin, data, _ in posted[start:] if origin is not client]
        data = b"".join(mine)
        if data:
            client.sendq.write(data)

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
        readers = self._readers
        if readers:
            whole = [message for _, _, made in posted for message in made]
            origins = {message.origin for message in whole}
            for reader in list(readers):
                if reader in sentFrom or reader.clientId in origins:
                    self._send(reader, posted, sentFrom.get(reader, 0))
                elif whole:
                    reader.sendq.writeMessages(whole)
        everything = b"".join([data for _, data, _ in posted])
        if not everything:
            return
        special = {origin for origin, _, _ in posted}
        special.update(sentFrom)
        special.update(readers)
        # A copy: a write may get its client cut off, out of the room.
        for client in list(self._clients.values()):
            if client not in special:
                client.sendq.write(everything)
            elif client not in readers:
                self._send(client, posted, sentFrom.get(client, 0))
