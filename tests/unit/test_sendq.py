"""
The write path on a real socket pair: the SendQ count is exactly what the
server holds for a client, whatever the socket took meanwhile.
"""

from __future__ import annotations

import socket

from twisted.internet import tcp
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chat.core.sendq import SocketQueue, TransportQueue, sendQueueFor


class WritableReactor(MemoryReactor):
    """Notes which descriptors wait to be writable."""

    def __init__(self) -> None:
        super().__init__()
        self.writers: set[object] = set()

    def addWriter(self, writer: object) -> None:
        self.writers.add(writer)

    def removeWriter(self, writer: object) -> None:
        self.writers.discard(writer)


class SocketQueueTests(SynchronousTestCase):
    def setUp(self) -> None:
        ours, theirs = socket.socketpair()
        for end in (ours, theirs):
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 14)
            end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 14)
            self.addCleanup(end.close)
        ours.setblocking(False)
        self.theirs = theirs
        self.reactor = WritableReactor()
        self.connection = tcp.Connection(ours, Protocol(), self.reactor)
        self.connection.connected = True
        queue = sendQueueFor(self.connection)
        assert isinstance(queue, SocketQueue)
        self.queue = queue

    def read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            data += self.theirs.recv(size - len(data))
        return data

    def test_countIsWhatIsHeldExactly(self) -> None:
        """
        What the socket does not take is held and counted to the byte, and
        the count follows every write the socket takes until the queue is
        drained and let go.
        """
        sent = bytes(range(256)) * 4096  # 1 MiB
        self.queue.write(sent)
        held = self.queue.size
        self.assertGreater(held, 0)
        self.assertLess(held, len(sent))
        taken = len(sent) - held
        self.assertIn(self.connection, self.reactor.writers)
        self.assertEqual(self.read(taken), sent[:taken])
        self.queue.write(b"more\n")
        self.assertEqual(self.queue.size, held + 5)
        received = b""
        while self.queue.size:
            self.connection.doWrite()  # the socket is writable again
            received += self.theirs.recv(1 << 20)
            self.assertEqual(
                self.queue.size,
                len(sent) + 5 - taken - len(received),
                "the count follows what the socket took",
            )
        self.assertEqual(received, sent[taken:] + b"more\n")
        self.assertEqual(self.queue.drains, 1)
        self.assertIsNone(self.connection.producer)

    def test_nothingHeldForABrokenConnection(self) -> None:
        """
        Once writing to the socket fails nothing is held for the client any
        more, and the transport is handed one slice only.
        """
        self.queue.write(bytes(1 << 20))
        self.assertGreater(self.queue.size, 0)
        self.theirs.close()
        handed: list[bytes] = []
        self.connection.write = handed.append  # type: ignore[method-assign]
        self.queue.resumeProducing()  # the socket is "writable": it errs
        self.assertEqual(self.queue.size, 0, "nothing is kept for a dead client")
        self.assertLessEqual(
            sum(map(len, handed)),
            1 << 16,
            "one slice, for the transport to meet the error",
        )

    def test_directWhileNothingIsHeld(self) -> None:
        """
        While nothing is held, a write goes straight to the socket, with
        nothing counted and no wait for it to be writable.
        """
        self.queue.write(b"hello\n")
        self.assertEqual(self.queue.size, 0)
        self.assertEqual(self.read(6), b"hello\n")
        self.assertNotIn(self.connection, self.reactor.writers)


class TransportQueueTests(SynchronousTestCase):
    def test_heldWhileTheTransportIsPaused(self) -> None:
        """
        Over another transport, the queue is its producer: writes go through
        at once, and while it is paused they are held and counted, then sent
        on resuming.
        """
        transport = StringTransport()
        queue = sendQueueFor(transport)
        assert isinstance(queue, TransportQueue)
        self.assertIs(transport.producer, queue)
        queue.write(b"a\n")
        self.assertEqual(transport.value(), b"a\n")
        queue.pauseProducing()
        queue.write(b"b\n")
        queue.write(b"c" * 100_000)
        self.assertEqual(queue.size, 100_002)
        queue.resumeProducing()
        self.assertEqual(transport.value(), b"a\nb\n" + b"c" * 100_000)
        self.assertEqual(queue.size, 0)

    def test_closesOnlyOnceDrained(self) -> None:
        """
        A queue finished while it holds output stays the transport's
        producer until it has given it all.
        """
        transport = StringTransport()
        queue = sendQueueFor(transport)
        assert isinstance(queue, TransportQueue)
        queue.pauseProducing()
        queue.write(b"last\n")
        queue.finish()
        self.assertIs(transport.producer, queue, "still has output to give")
        queue.resumeProducing()
        self.assertIsNone(transport.producer)
