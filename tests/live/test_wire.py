"""
The wire protocol, one suite over both doors: every test runs with the
client under test on the TCP door and again on the WebSocket door, among
clients of both doors, and checks what each of them receives.
"""

from __future__ import annotations

import pytest

from tests.support.live import Client, Server, StartServer
from tests.support.webclient import TEXT, WEB, WebClient, frame, webPort

pytestmark = pytest.mark.live

DOORS = ["tcp", "web"]
"""The doors a client comes in by."""

CONTINUATION = 0x0
"""The opcode of a frame that goes on with the message before it."""


class Member:
    """
    A client of either door, spoken to in the TCP door's bytes: lines sent
    with their newlines, and what it receives as a TCP client receives it.
    """

    def __init__(self, door: str, server: Server, ids: list[int]) -> None:
        """
        Connect by C{door}, as the last of the clients C{ids}: a browser is
        told first which it is and who is here.
        """
        self.door = door
        self.tcp = Client(server.port) if door == "tcp" else None
        self.web = WebClient(webPort(server)) if door == "web" else None
        if self.web is not None:
            names = ", ".join(f"client {n}" for n in ids)
            counted = "1 client" if len(ids) == 1 else f"{len(ids)} clients"
            self.web.expect(f"server: you are client {ids[-1]}")
            self.web.expect(f"server: {counted}: {names}")

    def say(self, *lines: bytes) -> None:
        """Send C{lines}, all in one write: one text frame each on the web."""
        if self.tcp is not None:
            self.tcp.send(b"".join(line + b"\n" for line in lines))
        else:
            assert self.web is not None
            self.web.sock.sendall(b"".join(frame(TEXT, line) for line in lines))

    def expect(self, data: bytes) -> None:
        """What arrives next is exactly C{data} (the web: a frame a line)."""
        if self.tcp is not None:
            self.tcp.expect(data)
        else:
            assert self.web is not None
            self.web.expect(data)

    def close(self) -> None:
        """Close the connection, as a client that goes does."""
        if self.tcp is not None:
            self.tcp.close()
        else:
            assert self.web is not None
            self.web.close()


class Room:
    """A server with both doors, and its clients in the order they came."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.members: list[Member] = []
        self.ids: list[int] = []

    def join(self, door: str) -> Member:
        """A client by C{door}, once every client before it saw it arrive."""
        clientId = len(self.members)
        member = Member(door, self.server, [*self.ids, clientId])
        arrived = b"server: client %d just arrived\n" % clientId
        for other in self.members:
            other.expect(arrived)
        self.members.append(member)
        self.ids.append(clientId)
        return member


@pytest.fixture
def room(startServer: StartServer) -> Room:
    """A server listening on a TCP port and on a web port, nobody in it."""
    return Room(startServer(*WEB))


@pytest.mark.parametrize("door", DOORS)
def test_idsCountAcrossDoors(room: Room, door: str) -> None:
    """
    Ids are handed out in the order clients come, whichever door they use:
    a newcomer by C{door} after one of each door is client 2, and both are
    told so.
    """
    room.join("tcp")
    room.join("web")
    newcomer = room.join(door)
    room.members[0].say(b"after")
    room.members[1].expect(b"client 0: after\n")
    newcomer.expect(b"client 0: after\n")


@pytest.mark.parametrize("door", DOORS)
def test_linesReachEveryoneElseInOrder(room: Room, door: str) -> None:
    """
    Lines sent in one write by a client of C{door} reach a TCP client and
    a browser as C{client N: line}, in order, and are not sent back to
    their sender: the next thing it receives is another's line.
    """
    speaker = room.join(door)
    tcp = room.join("tcp")
    web = room.join("web")
    speaker.say(b"one", b"two", b"three")
    relayed = b"client 0: one\nclient 0: two\nclient 0: three\n"
    tcp.expect(relayed)
    web.expect(relayed)
    tcp.say(b"sentinel")
    speaker.expect(b"client 1: sentinel\n")


@pytest.mark.parametrize("door", DOORS)
def test_emptyLineRelayed(room: Room, door: str) -> None:
    """An empty line is a line: the others receive C{client N: } for it."""
    speaker = room.join(door)
    listener = room.join("tcp")
    speaker.say(b"", b"after")
    listener.expect(b"client 0: \nclient 0: after\n")


@pytest.mark.parametrize("door", DOORS)
def test_leaveToldToEveryone(room: Room, door: str) -> None:
    """
    A client of C{door} that goes is announced to those of both doors as
    C{server: client N just left}, and its id is not handed out again.
    """
    room.join("tcp")
    leaving = room.join(door)
    room.join("web")
    leaving.close()
    for member in (room.members[0], room.members[2]):
        member.expect(b"server: client 1 just left\n")
    room.members.remove(leaving)
    newcomer = Member("tcp", room.server, [0, 2, 3])
    for member in room.members:
        member.expect(b"server: client 3 just arrived\n")
    newcomer.say(b"hello")
    room.members[0].expect(b"client 3: hello\n")


@pytest.mark.parametrize("door", DOORS)
def test_notUtf8ReachesTcpUnaltered(room: Room, door: str) -> None:
    """
    Bytes that are not UTF-8, from a TCP client, reach a listener of
    C{door} as they are on TCP and with U+FFFD in a browser.
    """
    speaker = room.join("tcp")
    listener = room.join(door)
    speaker.say(b"caf\xe9 \xff")
    if door == "tcp":
        listener.expect(b"client 0: caf\xe9 \xff\n")
    else:
        assert listener.web is not None
        listener.web.expect("client 0: caf\ufffd \ufffd")


@pytest.mark.parametrize("door", DOORS)
def test_lineInPiecesRelayedWhole(room: Room, door: str) -> None:
    """
    A line that arrives in pieces (two writes on TCP, a message in two
    frames on the web) reaches the others once, whole, when it is complete.
    """
    speaker = room.join(door)
    listener = room.join("tcp")
    if speaker.tcp is not None:
        speaker.tcp.send(b"hel")
        speaker.tcp.send(b"lo\n")
    else:
        assert speaker.web is not None
        speaker.web.sock.sendall(frame(TEXT, b"hel", fin=False))
        speaker.web.sock.sendall(frame(CONTINUATION, b"lo"))
    speaker.say(b"after")
    listener.expect(b"client 0: hello\nclient 0: after\n")
