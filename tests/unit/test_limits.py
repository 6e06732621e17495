"""
The limits (SendQ, flood control, clients, idle time) on in-memory
transports, with a fake clock.
"""

from __future__ import annotations

import resource
from typing import cast

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.logger import LogLevel, formatEvent
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from chat.core.interfaces import IPeers
from chat.core.limits import Limits, TokenBucket, raiseOpenFileLimit
from chat.core.peers import LocalPeers
from chat.tcp.protocol import ChatProtocol, TurnedAway
from tests.support.fakes import FakeRoom


class TokenBucketTests(SynchronousTestCase):
    def test_burstThenRate(self) -> None:
        """
        A bucket starts full with its burst, says how long until a token is
        back, and refills at its rate, no further than the burst.
        """
        clock = Clock()
        bucket = TokenBucket(rate=10, burst=5, clock=clock)
        self.assertEqual(bucket.available(), 5)
        bucket.spend(5)
        self.assertAlmostEqual(bucket.wait(), 0.1)
        clock.advance(0.25)
        self.assertAlmostEqual(bucket.available(), 2.5)
        bucket.spend(2)
        self.assertAlmostEqual(bucket.wait(), 0.05)
        clock.advance(100)
        self.assertEqual(bucket.available(), 5, "refilled up to the burst only")

    def test_debtForALineOfManyPieces(self) -> None:
        """
        Spending more than the bucket holds, as a line of many pieces does,
        leaves a debt: the wait lasts until it is paid and a token is back.
        """
        clock = Clock()
        bucket = TokenBucket(rate=2, burst=1, clock=clock)
        bucket.spend(4)
        self.assertAlmostEqual(bucket.wait(), 2.0)


class FloodControlTests(SynchronousTestCase):
    def test_linesPastTheAllowanceWaitUnread(self) -> None:
        """
        Past its burst, a client's lines wait, and its connection is not
        read, until the rate lets each through; a partial line completed
        meanwhile comes in its turn, and reading resumes once all are
        through.
        """
        fake = FakeRoom(limits=Limits(floodRate=10, floodBurst=5))
        flooder, flooderOut = fake.connect()
        _, reader = fake.connect()
        fake.received(reader)
        flooder.dataReceived(b"".join(b"line %d\r\n" % n for n in range(8)) + b"part")
        self.assertEqual(fake.received(reader).count(b"\n"), 5)
        self.assertEqual(flooderOut.producerState, "paused")
        flooder.dataReceived(b"ial\n")
        fake.clock.advance(0.09)
        self.assertEqual(fake.received(reader), b"")
        fake.clock.advance(0.02)
        self.assertEqual(fake.received(reader), b"client 0: line 5\n")
        fake.clock.advance(10)
        self.assertEqual(
            fake.received(reader),
            b"client 0: line 6\nclient 0: line 7\nclient 0: partial\n",
        )
        self.assertEqual(flooderOut.producerState, "producing")

    def test_linesPastTheAllowanceDroppedWhenTheClientLeaves(self) -> None:
        """
        Leaving does not get a flooder's held lines through: what is past
        its allowance when it goes is dropped, and the log says so.
        """
        fake = FakeRoom(limits=Limits(floodRate=1, floodBurst=1))
        flooder, flooderOut = fake.connect()
        _, reader = fake.connect()
        fake.received(reader)
        flooder.dataReceived(b"a\nb\nc")
        fake.disconnect(flooder)
        self.assertEqual(
            fake.received(reader), b"client 0: a\nserver: client 0 just left\n"
        )
        dropped = [e for e in fake.events if "dropped" in e["log_format"]]
        self.assertEqual([e["count"] for e in dropped], [2])

    def test_heldLinesKeepTheirBytes(self) -> None:
        """
        Lines held back are relayed exactly as they would have been at
        once: a kept CR is not taken for half of a CRLF a second time.
        """
        stream = b"a\r\r\nb\r\r\nc\r\r\n1234567\r89\n"
        fake = FakeRoom(maxLine=8, limits=Limits(floodRate=20, floodBurst=1))
        flooder, _ = fake.connect()
        _, reader = fake.connect()
        fake.received(reader)
        flooder.dataReceived(stream)
        for _ in range(10):
            fake.clock.advance(0.05)
        self.assertEqual(
            fake.received(reader),
            b"client 0: a\r\nclient 0: b\r\nclient 0: c\r\n"
            b"client 0: 1234567\r\nclient 0: 89\n",
        )

    def test_floodTimerDoesNotResumeAClusterHold(self) -> None:
        """
        While the room holds all input, the end of a client's flood wait
        does not resume it; the room's release does, and its held line goes
        through then.
        """
        fake = FakeRoom(limits=Limits(floodRate=10, floodBurst=1))
        flooder, flooderOut = fake.connect()
        _, reader = fake.connect()
        fake.received(reader)
        flooder.dataReceived(b"1\n2\n")
        fake.room.holdInput()
        fake.clock.advance(1)
        self.assertEqual(flooderOut.producerState, "paused")
        self.assertEqual(fake.received(reader), b"client 0: 1\n")
        fake.room.releaseInput()
        self.assertEqual(flooderOut.producerState, "producing")
        self.assertEqual(fake.received(reader), b"client 0: 2\n")


class FloodWarningTests(SynchronousTestCase):
    """The WARN line of a client that flood control holds back."""

    def setUp(self) -> None:
        self.fake = FakeRoom(limits=Limits(floodRate=1, floodBurst=1))
        self.first, self.firstOut = self.fake.connect()
        self.second, _ = self.fake.connect()

    def warnings(self) -> list[str]:
        return [
            formatEvent(event)
            for event in self.fake.events
            if event["log_level"] is LogLevel.warn
        ]

    def test_namesTheClient(self) -> None:
        """
        A client held back for the first time is named in a WARN line, by
        id and address, with the limits it went past.
        """
        self.first.dataReceived(b"1\n2\n")
        peer = cast(IPv4Address, self.firstOut.getPeer())
        self.assertEqual(
            self.warnings(),
            [
                f"client 0 from 127.0.0.1:{peer.port} held back by flood control"
                " (--flood-rate 1, --flood-burst 1)"
            ],
        )
        self.assertEqual(self.fake.events[-1]["category"], "STATE")

    def test_oncePerClientPerMinute(self) -> None:
        """
        A client held back again within a minute of its warning gets no
        other: the next warning is another client's; a minute on, it gets
        one again.
        """
        self.first.dataReceived(b"1\n2\n")
        self.fake.clock.advance(1)  # "2" goes through: the hold is over
        self.first.dataReceived(b"3\n")  # held back a second time
        self.fake.clock.advance(58)
        self.first.dataReceived(b"4\n5\n")  # and a third, 59 s on
        self.second.dataReceived(b"x\ny\n")
        self.fake.clock.advance(1)
        self.first.dataReceived(b"6\n7\n")  # a minute after its warning
        warned = [w.split()[1] for w in self.warnings()]
        self.assertEqual(warned, ["0", "1", "0"])


class SendQTests(SynchronousTestCase):
    def setUp(self) -> None:
        limits = Limits(sendqHard=1000, sendqSoft=300, sendqSoftSeconds=10)
        self.fake = FakeRoom(limits=limits)
        self.sender, _ = self.fake.connect()
        self.lazy, self.lazyOut = self.fake.connect()
        _, self.other = self.fake.connect()
        self.fake.received(self.other)
        self.lazyOut.stalled = True

    def send(self, size: int) -> None:
        self.sender.dataReceived(b"x" * (size - len(b"client 0: \n")) + b"\n")
        self.fake.clock.advance(0)

    def test_hardLimitCutsOff(self) -> None:
        """
        A client that does not read is cut off once what is held for it
        passes the hard limit, not before; the others are told it left, and
        one log line says why.
        """
        self.send(600)
        self.send(300)
        self.assertFalse(self.lazyOut.aborted)
        self.send(200)
        self.assertTrue(self.lazyOut.aborted)
        self.assertTrue(
            self.fake.received(self.other).endswith(b"server: client 1 just left\n")
        )
        warnings = [e for e in self.fake.events if "cut off" in e["log_format"]]
        self.assertEqual(len(warnings), 1)
        self.assertIn("hard limit 1000", warnings[0]["why"])

    def test_softLimitHeldTooLong(self) -> None:
        """
        A client that stays past the soft limit for longer than its seconds
        is cut off, and not sooner.
        """
        self.send(400)
        self.fake.clock.advance(9.9)
        self.assertFalse(self.lazyOut.aborted)
        self.fake.clock.advance(0.2)
        self.assertTrue(self.lazyOut.aborted)

    def test_softLimitForgivenWhenDrained(self) -> None:
        """
        A client past the soft limit that catches up has the whole time
        again when it falls behind anew.
        """
        self.send(400)
        self.fake.clock.advance(5)
        self.lazyOut.stalled = False
        self.lazyOut.stalled = True
        self.send(400)
        self.fake.clock.advance(5.1)
        self.assertFalse(self.lazyOut.aborted)

    def test_noLimitsWithZero(self) -> None:
        """
        With a hard limit of 0, a client that never reads is never cut off,
        however much is held for it and for however long.
        """
        fake = FakeRoom(limits=Limits(sendqHard=0))
        sender, _ = fake.connect()
        _, lazy = fake.connect()
        lazy.stalled = True
        for _ in range(100):
            sender.dataReceived(b"y" * 100_000 + b"\n")
            fake.clock.advance(100)
        self.assertFalse(lazy.aborted)


class ConnectionLimitTests(SynchronousTestCase):
    def test_serverFull(self) -> None:
        """
        A connection past the maximum of clients is told the server is full
        and closed; it takes no id, so the next client admitted gets the
        next one.
        """
        fake = FakeRoom(limits=Limits(maxClients=2))
        fake.connect()
        fake.connect()
        turnedAway = fake.room.door.buildProtocol(None)
        self.assertIsInstance(turnedAway, TurnedAway)
        transport = fake.transport()
        turnedAway.makeConnection(transport)
        self.assertEqual(transport.value(), b"server: server full\n")
        self.assertTrue(transport.disconnecting)
        fake.disconnect(next(iter(fake.room.clients.values())))
        newcomer, _ = fake.connect()
        self.assertEqual(newcomer.clientId, 2, "a turned-away connection has no id")

    def test_maxPerAddress(self) -> None:
        """
        A connection past the maximum from its address is turned away; once
        a client from there leaves, one is let in again.
        """
        fake = FakeRoom(limits=Limits(maxPerAddress=1))
        first, transport = fake.connect()
        protocol = fake.room.door.buildProtocol(transport.getPeer())
        self.assertIsInstance(protocol, TurnedAway)
        fake.disconnect(first)
        self.assertIsInstance(
            fake.room.door.buildProtocol(transport.getPeer()), ChatProtocol
        )


class IdleTimeoutTests(SynchronousTestCase):
    def test_silentClientDismissed(self) -> None:
        """
        A client silent for the idle timeout is told so and disconnected,
        and the others are told it left; one that spoke meanwhile stays.
        """
        fake = FakeRoom(limits=Limits(idleTimeout=30))
        talker, talkerOut = fake.connect()
        silent, silentOut = fake.connect()
        fake.clock.advance(20)
        talker.dataReceived(b"still here\n")
        fake.clock.advance(10)
        self.assertFalse(talkerOut.disconnecting)
        self.assertTrue(silentOut.disconnecting)
        self.assertTrue(
            fake.received(silentOut).endswith(
                b"server: idle for too long, disconnecting\n"
            )
        )
        fake.disconnect(silent)
        self.assertTrue(
            fake.received(talkerOut).endswith(b"server: client 1 just left\n")
        )


class OpenFileLimitTests(SynchronousTestCase):
    def test_raisedWithinTheHardLimit(self) -> None:
        """
        The soft limit on open files is raised to what is needed, never past
        the hard limit.
        """
        before = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, before)
        soft, hard = before
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256), hard))
        self.assertEqual(raiseOpenFileLimit(300), (min(300, hard), hard))
        self.assertEqual(raiseOpenFileLimit(10**9)[0], hard)


class DepartureOrderTests(SynchronousTestCase):
    def test_cutOffClientsPartialLineBeforeItsLeaveNotice(self) -> None:
        """
        A client cut off for its SendQ has its partial line relayed before
        the notice that it left.
        """
        fake = FakeRoom(limits=Limits(sendqHard=1000, sendqSoft=1000))
        sender, _ = fake.connect()
        lazy, lazyOut = fake.connect()
        _, reader = fake.connect()
        fake.received(reader)
        lazy.dataReceived(b"partial-from-L")
        lazyOut.stalled = True
        sender.dataReceived(b"x" * 1200 + b"\n")
        fake.clock.advance(0)
        self.assertTrue(lazyOut.aborted)
        received = fake.received(reader)
        self.assertTrue(
            received.endswith(
                b"client 1: partial-from-L\nserver: client 1 just left\n"
            ),
            received[-100:],
        )

    def test_dismissedClientIsGoneAtOnceAndCutOffIfItDoesNotRead(self) -> None:
        """
        An idle client leaves the room as soon as it is dismissed, its slot
        free at once; if it does not read its goodbye, its connection is cut
        off a few seconds later.
        """
        fake = FakeRoom(limits=Limits(idleTimeout=30, sendqHard=0))
        silent, silentOut = fake.connect()
        talker, talkerOut = fake.connect()
        silentOut.stalled = True
        for _ in range(3):
            fake.clock.advance(10)
            talker.dataReceived(b"busy\n")
        self.assertTrue(fake.received(talkerOut).endswith(b"client 0 just left\n"))
        self.assertEqual(list(fake.room.clients), [1], "its slot is free")
        self.assertFalse(silentOut.aborted)
        fake.clock.advance(5)
        self.assertTrue(silentOut.aborted, "cut off when it does not read")


class UnnumberedClientTests(SynchronousTestCase):
    """Connections waiting for an id count against the connection limits."""

    def fake(self, limits: Limits) -> tuple[FakeRoom, list[Deferred[int]]]:
        ids: list[Deferred[int]] = []

        @implementer(IPeers)
        class SlowPeers(LocalPeers):
            def join(self, account: bytes | None = None) -> Deferred[int]:
                ids.append(Deferred())
                return ids[-1]

        return FakeRoom(limits=limits, peers=SlowPeers()), ids

    def test_maxClients(self) -> None:
        """
        Connections still waiting for an id count toward the maximum of
        clients, as numbered ones do.
        """
        fake, ids = self.fake(Limits(maxClients=2))
        fake.connect()
        fake.connect()
        self.assertIsInstance(fake.room.door.buildProtocol(None), TurnedAway)
        ids[0].callback(0)
        self.assertIsInstance(fake.room.door.buildProtocol(None), TurnedAway)

    def test_maxPerAddress(self) -> None:
        """A connection waiting for an id counts toward the maximum from its address."""
        fake, _ = self.fake(Limits(maxPerAddress=1))
        _, transport = fake.connect()
        self.assertIsInstance(
            fake.room.door.buildProtocol(transport.getPeer()), TurnedAway
        )

    def test_readNothingUntilNumbered(self) -> None:
        """
        A connection is not read until it has an id; then it is announced,
        and what it sent is relayed after.
        """
        fake, ids = self.fake(Limits())
        early, earlyOut = fake.connect()
        ids[0].callback(0)
        waiting, waitingOut = fake.connect()
        self.assertEqual(waitingOut.producerState, "paused")
        waiting.dataReceived(b"too soon\n")
        self.assertEqual(fake.received(earlyOut), b"")
        ids[1].callback(1)
        self.assertEqual(waitingOut.producerState, "producing")
        self.assertEqual(
            fake.received(earlyOut),
            b"server: client 1 just arrived\nclient 1: too soon\n",
        )
