"""
The limits of SPEC section 5 on in-memory transports, with a fake clock.
"""

from __future__ import annotations

import resource

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from chat.limits import Limits, TokenBucket, raiseOpenFileLimit
from chat.protocol import ChatProtocol, TurnedAway
from tests.fakes import FakeRoom


class TokenBucketTests(SynchronousTestCase):
    def test_burstThenRate(self) -> None:
        clock = Clock()
        bucket = TokenBucket(rate=10, burst=5, clock=clock)
        self.assertEqual(bucket.allow(7), 5)
        self.assertAlmostEqual(bucket.wait(), 0.1)
        clock.advance(0.25)
        self.assertEqual(bucket.allow(7), 2)
        self.assertAlmostEqual(bucket.wait(), 0.05)
        clock.advance(100)
        self.assertEqual(bucket.allow(100), 5, "refilled up to the burst only")


class FloodControlTests(SynchronousTestCase):
    def test_linesPastTheAllowanceWaitUnread(self) -> None:
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

    def test_heldLinesRelayedWhenTheClientLeaves(self) -> None:
        fake = FakeRoom(limits=Limits(floodRate=1, floodBurst=1))
        flooder, flooderOut = fake.connect()
        _, reader = fake.connect()
        fake.received(reader)
        flooder.dataReceived(b"a\nb\nc")
        fake.disconnect(flooder)
        self.assertEqual(
            fake.received(reader),
            b"client 0: a\nclient 0: b\nclient 0: c\nserver: client 0 just left\n",
        )
        fake.clock.advance(10)
        self.assertEqual(flooderOut.producerState, "paused")


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
        self.send(400)
        self.fake.clock.advance(9.9)
        self.assertFalse(self.lazyOut.aborted)
        self.fake.clock.advance(0.2)
        self.assertTrue(self.lazyOut.aborted)

    def test_softLimitForgivenWhenDrained(self) -> None:
        self.send(400)
        self.fake.clock.advance(5)
        self.lazyOut.stalled = False
        self.lazyOut.drain()
        self.lazyOut.stalled = True
        self.send(400)
        self.fake.clock.advance(5.1)
        self.assertFalse(self.lazyOut.aborted)

    def test_noLimitsWithZero(self) -> None:
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
        fake = FakeRoom(limits=Limits(maxClients=2))
        fake.connect()
        fake.connect()
        turnedAway = fake.room.buildProtocol(None)
        self.assertIsInstance(turnedAway, TurnedAway)
        transport = fake.transport()
        turnedAway.makeConnection(transport)
        self.assertEqual(transport.value(), b"server: server full\n")
        self.assertTrue(transport.disconnecting)
        fake.disconnect(next(iter(fake.room.clients.values())))
        newcomer, _ = fake.connect()
        self.assertEqual(newcomer.clientId, 2, "a turned-away connection has no id")

    def test_maxPerAddress(self) -> None:
        fake = FakeRoom(limits=Limits(maxPerAddress=1))
        first, transport = fake.connect()
        protocol = fake.room.buildProtocol(transport.getPeer())
        self.assertIsInstance(protocol, TurnedAway)
        fake.disconnect(first)
        self.assertIsInstance(
            fake.room.buildProtocol(transport.getPeer()), ChatProtocol
        )


class IdleTimeoutTests(SynchronousTestCase):
    def test_silentClientDismissed(self) -> None:
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
        before = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, before)
        soft, hard = before
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256), hard))
        self.assertEqual(raiseOpenFileLimit(300), (min(300, hard), hard))
        self.assertEqual(raiseOpenFileLimit(10**9)[0], hard)
