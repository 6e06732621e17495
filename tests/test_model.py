"""
The room against a plain model of SPEC section 1: random connects, chunks
with and without newlines, CRLF, long lines and disconnects; after every
step each client has received exactly what the model says.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chat.protocol import ChatProtocol
from tests.fakes import FakeRoom, RecordingTransport

LIMIT = 6

chunks = st.lists(
    # "abcdef" is one whole line length: the edge cases of cutting long lines.
    st.sampled_from([b"a", b"abcdef", b"\n", b"\r", b"\r\n", b"\x00", b"\xff"])
)


class ModelClient:
    """What the spec says one client sends on and receives."""

    def __init__(self, clientId: int) -> None:
        self.clientId = clientId
        self.pending = b""
        self.expected = b""

    def lines(self, chunk: bytes) -> list[bytes]:
        """The lines (or pieces of lines) that C{chunk} completes."""
        self.pending += chunk
        *complete, self.pending = self.pending.split(b"\n")
        out = [piece for line in complete for piece in pieces(line)]
        while len(self.pending) - self.pending.endswith(b"\r") > LIMIT:
            out.append(self.pending[:LIMIT])
            self.pending = self.pending[LIMIT:]
        return out

    def rest(self) -> list[bytes]:
        """The partial line delivered when the client goes away."""
        return pieces(self.pending) if self.pending else []


def pieces(line: bytes) -> list[bytes]:
    if line.endswith(b"\r"):
        line = line[:-1]
    return [line[i : i + LIMIT] for i in range(0, len(line), LIMIT)] or [b""]


class RoomMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeRoom(maxLine=LIMIT)
        self.model: dict[int, ModelClient] = {}
        self.real: dict[int, tuple[ChatProtocol, RecordingTransport]] = {}
        self.received: dict[int, bytes] = {}
        self.nextId = 0

    def toOthers(self, sender: int | None, data: bytes) -> None:
        for clientId, client in self.model.items():
            if clientId != sender:
                client.expected += data

    @rule()
    def connect(self) -> None:
        clientId = self.nextId
        self.nextId += 1
        self.toOthers(None, b"server: client %d just arrived\n" % clientId)
        self.model[clientId] = ModelClient(clientId)
        self.real[clientId] = self.fake.connect()
        self.received[clientId] = b""

    @precondition(lambda self: self.model)
    @rule(data=st.data(), chunk=chunks)
    def send(self, data: st.DataObject, chunk: list[bytes]) -> None:
        clientId = data.draw(st.sampled_from(sorted(self.model)))
        raw = b"".join(chunk)
        for line in self.model[clientId].lines(raw):
            self.toOthers(clientId, b"client %d: %s\n" % (clientId, line))
        self.real[clientId][0].dataReceived(raw)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        clientId = data.draw(st.sampled_from(sorted(self.model)))
        leaving = self.model.pop(clientId)
        for line in leaving.rest():
            self.toOthers(clientId, b"client %d: %s\n" % (clientId, line))
        self.toOthers(None, b"server: client %d just left\n" % clientId)
        client, _ = self.real.pop(clientId)
        del self.received[clientId]
        self.fake.disconnect(client)

    @invariant()
    def everyoneReceivedWhatTheModelSays(self) -> None:
        for clientId, (_, transport) in self.real.items():
            self.received[clientId] += self.fake.received(transport)
            assert self.received[clientId] == self.model[clientId].expected


TestRoom = RoomMachine.TestCase
TestRoom.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
