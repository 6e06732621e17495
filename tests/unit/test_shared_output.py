"""
What the room makes for one client alone (answers to its commands, its
history) goes through that client's SendQ as it is made, checked against
its limits at every write, and is shared rather than copied per client.
"""

from __future__ import annotations

import re
import tracemalloc

from chat.core import wire
from chat.core.limits import Limits, MiB
from chat.core.peers import LocalPeers
from chat.people.commands import HELP
from chat.people.history import History
from chat.people.replay import Replay
from chat.tcp.protocol import ChatProtocol
from tests.support.fakes import FakeRoom


def answerToWho(peers: LocalPeers) -> bytes:
    """What C{/who} answers now."""
    answers: list[bytes] = []
    peers.who().addCallback(answers.append)
    (answer,) = answers
    return answer


def test_whoFloodCutAtTheHardLimit() -> None:
    """
    A client that sends /who far faster than it reads, in a crowded room,
    is cut off as soon as what is held for it passes the hard limit: the
    commands it sent after are not run, and what was held for it never
    went past the limit by more than one answer.
    """
    limits = Limits(sendqHard=20_000, sendqSoft=10_000)
    fake = FakeRoom(limits=limits, commands=True)
    asker, out = fake.connect(stalled=True)
    watcher, seen = fake.connect()
    for _ in range(50):
        fake.connect()
    fake.received(seen)
    answer = wire.who([wire.clientLabel(each) for each in range(52)])
    asker.dataReceived(b"/who\n" * 1000)
    assert out.aborted
    ran = [event for event in fake.events if event.get("command") == "/who"]
    assert len(ran) <= limits.sendqHard // len(answer) + 1
    (cut,) = [event for event in fake.events if "cut off" in event["log_format"]]
    pending = int(re.search(r"(\d+) bytes pending", cut["why"]).group(1))  # type: ignore[union-attr]
    assert limits.sendqHard < pending <= limits.sendqHard + len(answer)
    assert fake.received(seen) == b"server: client 0 just left\n"


def test_answerInItsPlace() -> None:
    """
    An answer reaches its client after what was posted for it before the
    command in the same round, and before what is posted after.
    """
    fake = FakeRoom(commands=True)
    talker, _ = fake.connect()
    asker, out = fake.connect()
    fake.received(out)
    talker.dataReceived(b"before\n")
    asker.dataReceived(b"/help\n")
    talker.dataReceived(b"after\n")
    assert fake.received(out) == b"client 0: before\n" + HELP + b"client 0: after\n"


def test_whoAnswerShared() -> None:
    """
    The answer to /who is one bytes object, shared by every client that
    asks, until someone comes, leaves or changes names.
    """
    peers = LocalPeers()
    fake = FakeRoom(peers=peers, commands=True)
    first, _ = fake.connect()
    second, _ = fake.connect()
    answer = answerToWho(peers)
    assert answer == wire.who([b"client 0", b"client 1"])
    assert answerToWho(peers) is answer
    first.dataReceived(b"/nick al\n")
    renamed = answerToWho(peers)
    assert renamed == wire.who([b"al", b"client 1"])
    assert answerToWho(peers) is renamed
    fake.connect()
    assert answerToWho(peers) == wire.who([b"al", b"client 1", b"client 2"])
    fake.disconnect(second)
    assert answerToWho(peers) == wire.who([b"al", b"client 2"])


def fill(history: History, lines: int, size: int = 100) -> bytes:
    """Record C{lines} lines of C{size} bytes in C{history}: what it holds."""
    data = b"".join(b"c: %0*d\n" % (size - 4, each) for each in range(lines))
    for start in range(0, len(data), 64 * size):
        history.record(data[start : start + 64 * size])
    return data


def test_replaySharesBlocks() -> None:
    """
    Two replays are the same pieces, not copies: blocks of lines joined
    once, and the newest lines themselves; together, the history.
    """
    history = History(10000)
    data = fill(history, 3000)
    first, again = history.replay(), history.replay()
    assert isinstance(first, list)
    assert b"".join(first) == wire.historyStart(3000) + data + wire.END_OF_HISTORY
    assert len(first) == len(again) < 3000 // 10
    assert all(a is b for a, b in zip(first[1:-1], again[1:-1], strict=True))


def test_replayAfterTheOldestLinesWent() -> None:
    """
    Once the oldest lines are gone, the rest of their block is shared as
    it is, without a copy; what is replayed is the last lines still.
    """
    history = History(1000)
    data = fill(history, 3000)
    replayed = history.replay()
    kept = data[-1000 * 100 :]
    assert b"".join(replayed) == wire.historyStart(1000) + kept + wire.END_OF_HISTORY
    assert any(isinstance(piece, memoryview) for piece in replayed)


def talkedRoom(limits: Limits, batches: int) -> tuple[FakeRoom, ChatProtocol, bytes]:
    """
    A room with C{limits} and a history, where a client said C{batches}
    times 60 lines of 1 000 bytes: the room, that client, and such a line.
    """
    fake = FakeRoom(history=10000, limits=limits)
    talker, _ = fake.connect()
    line = b"x" * 1000 + b"\n"
    for _ in range(batches):
        talker.dataReceived(line * 60)
    fake.clock.advance(0)
    return fake, talker, line


def test_newcomersShareTheHistory() -> None:
    """
    Newcomers that never read hold the history by reference: twenty of
    them cost less memory than one copy of it, and each one's SendQ counts
    all of it.
    """
    fake, _, line = talkedRoom(Limits(sendqHard=4 * MiB, sendqSoft=2 * MiB), 20)
    replay = fake.room.stages[0]
    assert isinstance(replay, Replay)
    history = replay.history
    assert history is not None
    held = len(history) * len(line)
    assert held > 900_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        newcomers = [fake.connect(stalled=True)[0] for _ in range(20)]
        fake.clock.advance(0)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < held
    assert all(each.sendq.size >= held for each in newcomers)


def test_newcomerThatNeverReadsIsALazyReader() -> None:
    """
    A newcomer that never reads its history is cut off at the soft limit
    held too long, as any client that does not read: the history counts.
    """
    limits = Limits(sendqHard=4 * MiB, sendqSoft=2 * MiB, sendqSoftSeconds=10)
    fake, talker, line = talkedRoom(limits, 17)
    newcomer, out = fake.connect(stalled=True)
    talker.dataReceived(line * 1100)
    fake.clock.advance(0)
    assert not out.aborted
    fake.clock.advance(10.1)
    assert out.aborted
