"""
The stages of the room: what the clients of every door go through as they
arrive, enter, send lines and leave.
"""

from __future__ import annotations

from zope.interface import implementer
from zope.interface.verify import verifyObject

from chat.core import wire
from chat.core.interfaces import IClient, IStage
from chat.core.lines import TOO_LONG
from tests.support.webclient import TEXT, frame
from tests.support.websocketfakes import SocketOnFakeRoom


@implementer(IStage)
class Recording:
    """
    A stage that writes down what it is called for, keeps out the clients
    of C{keepOut}, takes over lines equal to C{TAKEN} and hands on the
    others.
    """

    TAKEN = b"taken"
    wholeLines = False

    def __init__(self, keepOut: bool = False) -> None:
        self.calls: list[tuple[str, int, object]] = []
        self._keepOut = keepOut

    def arrived(self, client: IClient) -> bool:
        self.calls.append(("arrived", client.clientId, None))
        return self._keepOut

    def entered(self, client: IClient) -> None:
        self.calls.append(("entered", client.clientId, None))

    def received(
        self, client: IClient, lines: list[bytes], frame: bytes
    ) -> list[bytes] | None:
        self.calls.append(("received", client.clientId, list(lines)))
        if self.TAKEN not in lines:
            return lines
        rest = [line for line in lines if line != self.TAKEN]
        return rest or None

    def left(self, client: IClient, relay: bool) -> None:
        self.calls.append(("left", client.clientId, relay))

    def reload(self) -> None:
        self.calls.append(("reload", -1, None))


class StageTests(SocketOnFakeRoom):
    def test_aStageByHand(self) -> None:
        """A stage given by hand provides L{IStage}, as the room needs it."""
        self.assertTrue(verifyObject(IStage, Recording()))

    def test_noStagesWithoutChatOptions(self) -> None:
        """A room made without chat options has no stage at all."""
        self.assertEqual(list(self.fake.room.stages), [])

    def test_everyDoorGoesThroughTheStages(self) -> None:
        """
        A TCP client and a browser alike arrive, enter, send their lines
        and leave through the room's stages, in that order; SIGHUP reaches
        the stages.
        """
        stage = Recording()
        self.fake.room.stages = [stage]
        tcp, _ = self.fake.connect()
        socket, _ = self.openSocket()
        socket.dataReceived(frame(TEXT, b"hi"))
        tcp.dataReceived(b"hello\n")
        socket.connectionLost()
        self.fake.disconnect(tcp)
        self.fake.room.reload()
        self.assertEqual(
            stage.calls,
            [
                ("arrived", -1, None),
                ("entered", 0, None),
                ("arrived", -1, None),
                ("entered", 1, None),
                ("received", 1, [b"hi"]),
                ("received", 0, [b"hello"]),
                ("left", 1, True),
                ("left", 0, True),
                ("reload", -1, None),
            ],
        )

    def test_whatIsLeftIsRelayed(self) -> None:
        """
        Lines a stage takes over are not relayed; what it leaves is, framed
        as always; lines it has nothing to do with go through as they are.
        """
        self.fake.room.stages = [Recording()]
        a, ta = self.fake.connect()
        b, tb = self.fake.connect()
        self.fake.received(ta)
        b.dataReceived(b"taken\n")
        b.dataReceived(b"one\ntaken\ntwo\n")
        b.dataReceived(b"sentinel\n")
        self.assertEqual(
            self.fake.received(ta),
            b"client 1: one\nclient 1: two\nclient 1: sentinel\n",
        )

    def test_aStageKeepsAClientOut(self) -> None:
        """
        A client a stage keeps out, TCP client or browser, has no id and
        nobody is told of it; once the stage lets it in, it enters as any
        client, its stages' entry after the others are told.
        """
        stage = Recording(keepOut=True)
        self.fake.room.stages = [stage]
        a, ta = self.fake.connect()
        self.openSocket()
        self.assertEqual(self.fake.received(ta), b"")
        self.assertEqual(self.fake.room.clients, {})
        (browser,) = self.fake.room.lobby.waiting - {a}
        self.fake.room.lobby.admit(a)
        self.fake.room.lobby.admit(browser)
        self.assertEqual(self.fake.received(ta), wire.arrived(1))
        self.assertEqual(stage.calls[-1], ("entered", 1, None))
        self.assertEqual(self.fake.room.clients, {0: a, 1: browser})

    def test_wholeLinesAtEveryDoor(self) -> None:
        """
        With a stage that reads whole lines, a line that begins with C{/}
        and is longer than the maximum reaches it whole, as a line too long
        to read, from a TCP client and a browser alike; without, it is cut.
        """
        stage = Recording()
        stage.wholeLines = True
        self.fake.room.stages = [stage]
        tcp, _ = self.fake.connect()
        socket, _ = self.openSocket()
        long = b"/" + b"x" * 40
        tcp.dataReceived(long + b"\n")
        socket.dataReceived(frame(TEXT, long))
        stage.wholeLines = False
        self.fake.room.stages = [stage]
        late, _ = self.fake.connect()
        late.dataReceived(long + b"\n")
        self.assertEqual(
            [call[1:] for call in stage.calls if call[0] == "received"],
            [
                (0, [TOO_LONG]),
                (1, [TOO_LONG]),
                (2, [long[:16], long[16:32], long[32:]]),
            ],
        )
