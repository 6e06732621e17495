"""
Messages (chat mode): each line, action, notice and private message the
room delivers, numbered in the order it delivers them and stamped with the
time, for the clients that read messages rather than lines (the web's
C{chat.json}) and for catching up after a reconnection.

A message is made once, from the bytes the room delivers, and shared: the
same object goes to every client that reads messages and to the record kept
for catching up (L{IMessageRecord}).  Without chat options none is made.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count, repeat

from twisted.internet.interfaces import IReactorTime

from chat.core import wire
from chat.core.interfaces import IClient, IMessageRecord

LINE = "line"
ACTION = "action"
NOTICE = "notice"
PRIVATE = "private"
"""The kinds of message."""

SERVER = b"server"
"""Who notices come from."""

OVERHEAD = 128
"""
Bytes a message is counted for besides its text and its sender's name: the
object, and the rest of what it is on the wire as JSON.
"""

_ACTION = b"* "
_PRIVATE = b" (private)"
_SAID = b": "
_CLIENT = b"client "


class Message:
    """
    One message: its C{id}, its C{time} (milliseconds since the epoch, by
    the room's clock), its C{kind} (L{LINE}, L{ACTION}, L{NOTICE},
    L{PRIVATE}), who sent it (C{senderId}, or L{None} for the server and for
    a sender this process does not know, and C{senderName}, the name it had
    then), its C{text} (bytes, as sent, without the decoration of the
    line: no C{* name} before an action), and C{origin}, the id of the
    client it was not delivered to (its sender, or the client a notice is
    about), if any.
    """

    __slots__ = ("id", "time", "kind", "senderId", "senderName", "text", "origin")

    def __init__(
        self,
        id: int,
        time: int,
        kind: str,
        senderId: int | None,
        senderName: bytes,
        text: bytes,
        origin: int | None = None,
    ) -> None:
        self.id = id
        self.time = time
        self.kind = kind
        self.senderId = senderId
        self.senderName = senderName
        self.text = text
        self.origin = origin

    @property
    def size(self) -> int:
        """The bytes it is counted for while it is kept (see L{OVERHEAD})."""
        return len(self.text) + len(self.senderName) + OVERHEAD

    def __repr__(self) -> str:
        return (
            f"<Message {self.id} {self.kind} from {self.senderName!r}"
            f" ({self.senderId}): {self.text!r}>"
        )


RUN_IDS = 2**52
"""
Where a run's ids may begin: anywhere below this, so that they stay below
2**53, exact as numbers in JSON and in JavaScript.
"""


def runStart() -> int:
    """
    Where a run's ids begin: drawn at random, so that the id of another run
    (of this server before a restart, or of another node of a cluster) is
    one of this run's only by a chance of its number of messages in 2**52.
    """
    return secrets.randbelow(RUN_IDS) + 1


@dataclass(frozen=True)
class Numbering:
    """
    The ids the room's peers gave lines delivered to everyone (a cluster's
    stream): C{first} for the first line, one more for each next one;
    C{previous}, the id of the last message before them; C{time}, when
    they were numbered (ms); C{origins}, who said them: each client (or
    L{None}, the server) with how many lines in a row.
    """

    first: int
    previous: int
    time: int
    origins: Sequence[tuple[int | None, int]] = ()

    def originOf(self) -> Iterator[int | None]:
        """Who said each line, in turn; the server, past the origins given."""
        for origin, lines in self.origins:
            yield from repeat(origin, lines)
        yield from repeat(None)


class Messages:
    """
    The messages of a room: made from what it delivers, stamped with its
    C{clock}; those delivered to everyone are kept in its C{record}.

    They are numbered in the order the room delivers them from C{firstId}
    on (L{runStart} for a server), or, when C{numbered} (a cluster), by the
    room's peers (L{Numbering}), in the order of the whole room, the same on
    every node.  What a client is told alone, or what this room alone is
    sent (a shutdown notice), is not numbered by the peers: its messages
    have the id of the newest message before them.

    @ivar firstId: the id of the first message made (numbered: one more
        than the id before the first message numbered).
    @ivar lastId: the id of the newest message made (C{firstId - 1} before
        the first).
    """

    def __init__(
        self,
        clock: IReactorTime,
        record: IMessageRecord,
        firstId: int = 1,
        numbered: bool = False,
    ) -> None:
        self._clock = clock
        self.firstId = firstId
        self._ids = count(firstId)
        self.record = record
        self.lastId = firstId - 1
        self.numbered = numbered
        self._started = False

    def ours(self, since: int) -> bool:
        """
        Whether C{since} is the id of a message made here (or the one just
        before the first): not of a former run.
        """
        return self.firstId - 1 <= since <= self.lastId

    def posted(
        self, data: bytes, origin: IClient | None, local: bool = False
    ) -> list[Message]:
        """
        The messages of C{data}, whole lines posted to everyone but
        C{origin} (their sender, or the client a notice is about): kept in
        the record.  When the peers number messages, none (they come back
        numbered), but of what is posted in this room alone (C{local}).
        """
        if not self.numbered:
            made = self._make(data, origin, origin, self._ids)
            self.record.add(made)
            return made
        return self._make(data, origin, origin, repeat(self.lastId)) if local else []

    def told(self, data: bytes, sender: IClient | None = None) -> list[Message]:
        """
        The messages of C{data}, lines told one client alone (answers,
        private messages from C{sender}, notices): not kept.
        """
        ids = repeat(self.lastId) if self.numbered else self._ids
        return self._make(data, sender, None, ids)

    def numberedBy(self, data: bytes, numbering: Numbering) -> list[Message]:
        """
        The messages of C{data}, lines delivered to everyone, numbered by
        the peers: kept in the record.
        """
        made = _numbered(data, numbering)
        if made:
            if not self._started:
                self._started = True
                self.firstId = numbering.previous + 1
            self.lastId = made[-1].id
            self.record.add(made)
        return made

    def numberedBefore(self, data: bytes, numbering: Numbering) -> bool:
        """
        Keep the messages of C{data}, lines delivered to everyone before
        every message kept so far (read back from the peers, newest first,
        before the first is numbered), as far as the record takes older
        ones: whether it takes more.
        """
        made = _numbered(data, numbering)
        if not made:
            return True
        if not self._started:
            self._started = True
            self.lastId = made[-1].id
        more = self.record.addOlder(made)
        if more:
            self.firstId = numbering.previous + 1
        return more

    def _make(
        self,
        data: bytes,
        sender: IClient | None,
        origin: IClient | None,
        ids: Iterator[int],
    ) -> list[Message]:
        lines = _lines(data)
        if not lines:
            return []
        time = int(self._clock.seconds() * 1000)
        label = sender.label if sender is not None else None
        senderId = sender.clientId if sender is not None else None
        originId = origin.clientId if origin is not None else None
        made = []
        for line in lines:
            kind, name, text = parse(line, label)
            fromId = None
            if kind != NOTICE:
                fromId = senderId if name == label else clientNumber(name)
            made.append(Message(next(ids), time, kind, fromId, name, text, originId))
        self.lastId = max(self.lastId, made[-1].id)
        return made


def _numbered(data: bytes, numbering: Numbering) -> list[Message]:
    """The messages of C{data}, lines numbered by the peers (L{Numbering})."""
    made = []
    origins = numbering.originOf()
    for id, line in enumerate(_lines(data), numbering.first):
        origin = next(origins)
        kind, name, text = parse(line)
        fromId = None
        if kind != NOTICE:
            fromId = origin if origin is not None else clientNumber(name)
        made.append(Message(id, numbering.time, kind, fromId, name, text, origin))
    return made


def _lines(data: bytes) -> list[bytes]:
    """The lines of C{data}, whole lines, without their delimiters."""
    lines = data.split(wire.DELIMITER)
    if not lines[-1]:
        del lines[-1]
    return lines


def parse(line: bytes, label: bytes | None = None) -> tuple[str, bytes, bytes]:
    """
    The kind, sender's name and text of C{line}, as the room delivers it;
    C{label}: the name of its sender, when known.  Names are nicks (no
    space, no colon) or C{client N}, so a line's sender's name ends at the
    first C{": "}; a line that is none of these is a notice.
    """
    if line.startswith(wire.SERVER_PREFIX):
        return NOTICE, SERVER, line[len(wire.SERVER_PREFIX) :]
    if line.startswith(_ACTION):
        rest = line[len(_ACTION) :]
        if label is not None and rest.startswith(label):
            name = label
        else:
            words = 2 if rest.startswith(_CLIENT) else 1
            name = b" ".join(rest.split(b" ", words)[:words])
        return ACTION, name, rest[len(name) + 1 :]
    name, said, text = line.partition(_SAID)
    if not said:
        return NOTICE, SERVER, line
    if name.endswith(_PRIVATE):
        return PRIVATE, name[: -len(_PRIVATE)], text
    return LINE, name, text


def clientNumber(name: bytes) -> int | None:
    """The id in C{name} when it is C{client N}, else L{None}."""
    if name.startswith(_CLIENT):
        number = name[len(_CLIENT) :]
        if number.isdigit():
            return int(number)
    return None
