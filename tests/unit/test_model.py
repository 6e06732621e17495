"""
The room against a plain model of the wire protocol: random connects, chunks
with and without newlines, CRLF, long lines and disconnects; after every
step each client has received exactly what the model says.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chat.tcp.protocol import ChatProtocol
from tests.support.fakes import FakeRoom, RecordingTransport

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


def receivedAsModelled(
    fake: FakeRoom,
    real: dict[int, tuple[ChatProtocol, RecordingTransport]],
    received: dict[int, bytes],
    model: Mapping[int, ModelClient | ChatModelClient],
) -> None:
    """Each client has received, so far, exactly what the model says."""
    for clientId, (_, transport) in real.items():
        received[clientId] += fake.received(transport)
        assert received[clientId] == model[clientId].expected


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
        receivedAsModelled(self.fake, self.real, self.received, self.model)


TestRoom = RoomMachine.TestCase
TestRoom.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


NICKS = [b"al", b"AL", b"bo", b"client1", b"x y", b"Bo"]
TEXTS = [b"", b"hi", b"/x", b"a b", b"\xff"]


class ChatModelClient:
    """One client of the chat model: its nick and what it has received."""

    def __init__(self, clientId: int) -> None:
        self.clientId = clientId
        self.nick: bytes | None = None
        self.expected = b""

    @property
    def label(self) -> bytes:
        return self.nick or b"client %d" % self.clientId


class ChatMachine(RuleBasedStateMachine):
    """
    The room with --commands and --history against a model of chat for
    people: nicks unique ignoring case, actions, private messages,
    /who, /quit, escapes, and the history a newcomer receives.
    """

    HISTORY = 3

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeRoom(commands=True, history=self.HISTORY)
        self.model: dict[int, ChatModelClient] = {}
        self.real: dict[int, tuple[ChatProtocol, RecordingTransport]] = {}
        self.received: dict[int, bytes] = {}
        self.history: list[bytes] = []
        self.nextId = 0

    def toOthers(self, sender: int | None, data: bytes) -> None:
        for clientId, client in self.model.items():
            if clientId != sender:
                client.expected += data

    def relayed(self, sender: int, line: bytes) -> None:
        self.toOthers(sender, line)
        self.history = (self.history + [line])[-self.HISTORY :]

    def holder(self, name: bytes) -> ChatModelClient | None:
        for client in self.model.values():
            if client.nick is not None and client.nick.lower() == name.lower():
                return client
        return None

    def send(self, clientId: int, line: bytes) -> None:
        self.real[clientId][0].dataReceived(line + b"\n")

    @rule()
    def connect(self) -> None:
        clientId = self.nextId
        self.nextId += 1
        self.toOthers(None, b"server: client %d just arrived\n" % clientId)
        client = self.model[clientId] = ChatModelClient(clientId)
        body = b"".join(self.history)
        client.expected += (
            b"server: last %d lines\n" % len(self.history)
            + body
            + b"server: end of history\n"
        )
        self.real[clientId] = self.fake.connect()
        self.received[clientId] = b""

    @precondition(lambda self: self.model)
    @rule(data=st.data(), text=st.sampled_from(TEXTS))
    def say(self, data: st.DataObject, text: bytes) -> None:
        clientId = data.draw(st.sampled_from(sorted(self.model)))
        client = self.model[clientId]
        if text.startswith(b"/"):
            self.send(clientId, b"/" + text)
        else:
            self.send(clientId, text)
        self.relayed(clientId, client.label + b": " + text + b"\n")

    @precondition(lambda self: self.model)
    @rule(data=st.data(), name=st.sampled_from(NICKS))
    def nick(self, data: st.DataObject, name: bytes) -> None:
        clientId = data.draw(st.sampled_from(sorted(self.model)))
        client = self.model[clientId]
        self.send(clientId, b"/nick " + name)
        holder = self.holder(name)
        if b" " in name or name.startswith(b"client"):
            client.expected += b"server: invalid nick\n"
        elif holder is not None and holder is not client:
            client.expected += b"server: nick %s is taken\n" % name
        elif client.nick != name:
            self.toOthers(clientId, b"server: %s is now %s\n" % (client.label, name))
            client.nick = name

    @precondition(lambda self: self.model)
    @rule(data=st.data(), text=st.sampled_from(TEXTS))
    def me(self, data: st.DataObject, text: bytes) -> None:
        clientId = data.draw(st.sampled_from(sorted(self.model)))
        client = self.model[clientId]
        self.send(clientId, b"/me " + text)
        action = b"* " + client.label + (b" " + text if text else b"") + b"\n"
        self.relayed(clientId, action)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), name=st.sampled_from(NICKS[:3]))
    def msg(self, data: st.DataObject, name: bytes) -> None:
        clientId = data.draw(st.sampled_from(sorted(self.model)))
        client = self.model[clientId]
        self.send(clientId, b"/msg " + name + b" psst")
        holder = self.holder(name)
        if holder is None:
            client.expected += b"server: no such nick %s\n" % name
        else:
            holder.expected += client.label + b" (private): psst\n"

    def whoAnswer(self) -> bytes:
        """What /who answers: every client, in id order, and how many."""
        labels = [self.model[i].label for i in sorted(self.model)]
        count = b"1 client" if len(labels) == 1 else b"%d clients" % len(labels)
        return b"server: " + count + b": " + b", ".join(labels) + b"\n"

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def who(self, data: st.DataObject) -> None:
        clientId = data.draw(st.sampled_from(sorted(self.model)))
        self.send(clientId, b"/who")
        self.model[clientId].expected += self.whoAnswer()

    @precondition(lambda self: self.model)
    @rule(
        data=st.data(),
        chunks=st.lists(
            st.lists(st.sampled_from([b"hi", b"/who", b"/me x", b"//y", b"/z"]))
        ),
    )
    def oneRound(self, data: st.DataObject, chunks: list[list[bytes]]) -> None:
        """
        Chunks of lines and commands from several clients in one reactor
        iteration: each line and each answer in its place.
        """
        for lines in chunks:
            clientId = data.draw(st.sampled_from(sorted(self.model)))
            for line in lines:
                self.modelLine(clientId, line)
            chunk = b"".join(line + b"\n" for line in lines)
            self.real[clientId][0].dataReceived(chunk)

    def modelLine(self, clientId: int, line: bytes) -> None:
        client = self.model[clientId]
        if line == b"/who":
            client.expected += self.whoAnswer()
        elif line == b"/me x":
            self.relayed(clientId, b"* " + client.label + b" x\n")
        elif line == b"/z":
            client.expected += b"server: unknown command /z, try /help\n"
        else:
            text = line.removeprefix(b"/")  # "//y" is relayed as "/y"
            self.relayed(clientId, client.label + b": " + text + b"\n")

    @precondition(lambda self: self.model)
    @rule(data=st.data(), why=st.sampled_from([None, b"", b"bye now"]))
    def leave(self, data: st.DataObject, why: bytes | None) -> None:
        clientId = data.draw(st.sampled_from(sorted(self.model)))
        client = self.model.pop(clientId)
        real, _ = self.real.pop(clientId)
        del self.received[clientId]
        if why is None:
            self.fake.disconnect(real)
            notice = b"server: %s just left\n" % client.label
        else:
            real.dataReceived(b"/quit " + why + b"\nnever relayed\n")
            suffix = b" (" + why + b")" if why else b""
            notice = b"server: %s just left%s\n" % (client.label, suffix)
        self.toOthers(None, notice)

    @invariant()
    def everyoneReceivedWhatTheModelSays(self) -> None:
        receivedAsModelled(self.fake, self.real, self.received, self.model)


TestChat = ChatMachine.TestCase
TestChat.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
