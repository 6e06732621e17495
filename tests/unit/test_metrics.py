"""
C{--metrics} in memory: exact counts after a known exchange, and the site
that serves them.
"""

from __future__ import annotations

from prometheus_client import enable_created_metrics
from prometheus_client.exposition import generate_latest
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chat.app.prometheus import PrometheusMetrics
from chat.app.version import version
from chat.core.limits import Limits
from chat.tcp.protocol import TurnedAway
from tests.support.fakes import FakeRoom
from tests.support.scrapes import checkFamilies, families


def newMetrics(case: SynchronousTestCase) -> PrometheusMetrics:
    """
    Metrics for C{case}; the process's other counters have their
    C{_created} series again once it is over.
    """
    case.addCleanup(enable_created_metrics)
    return PrometheusMetrics()


class FamiliesTests(SynchronousTestCase):
    def test_families(self) -> None:
        """
        A scrape has the process's families and C{python_info}, the
        version's gauge and the room's counters, one series each: no
        C{_created}.
        """
        metrics = newMetrics(self)
        parsed = families(generate_latest(metrics.registry).decode())
        checkFamilies(parsed)
        self.assertEqual(
            parsed["chat_connections"], ("counter", {"chat_connections_total": 0.0})
        )
        self.assertNotEqual(version(), "unknown (not installed)")


class CountsTests(SynchronousTestCase):
    def test_exchange(self) -> None:
        """
        After a known exchange every counter is exact: clients, connections,
        turned away by reason, throttled, disconnects by reason, lines,
        bytes and deliveries.
        """
        metrics = newMetrics(self)
        limits = Limits(
            maxClients=3, sendqHard=1000, sendqSoft=1000, floodRate=1, floodBurst=2
        )
        fake = FakeRoom(limits=limits, metrics=metrics)
        metrics.watchClients(fake.room.clients)
        a, _ = fake.connect()
        b, bOut = fake.connect()
        c, _ = fake.connect()
        self.assertIsInstance(fake.room.door.buildProtocol(None), TurnedAway)
        a.dataReceived(b"one\ntwo\nthree\n")  # two allowed, one held back
        fake.clock.advance(0)
        bOut.stalled = True
        c.dataReceived(b"y" * 1500 + b"\n")  # past b's hard limit
        fake.clock.advance(0)
        self.assertTrue(bOut.aborted)
        fake.clock.advance(2)  # "three" is allowed now, and goes to c only
        fake.disconnect(a)

        def value(name: str, **labels: str) -> float | None:
            return metrics.registry.get_sample_value(name, labels)

        self.assertEqual(value("chat_clients"), 1)
        self.assertEqual(value("chat_connections_total"), 3)
        self.assertEqual(value("chat_turned_away_total", reason="full"), 1)
        self.assertEqual(value("chat_turned_away_total", reason="per_ip"), 0)
        self.assertEqual(value("chat_throttled_total"), 1)
        self.assertEqual(value("chat_disconnects_total", reason="sendq"), 1)
        self.assertEqual(value("chat_disconnects_total", reason="closed"), 1)
        self.assertEqual(value("chat_lines_received_total"), 4)
        self.assertEqual(value("chat_bytes_received_total"), 3 + 3 + 1500 + 5)
        self.assertEqual(value("chat_deliveries_total"), 2 * 2 + 1 * 2 + 1 * 1)


class MetricsSiteTests(SynchronousTestCase):
    """The metrics' web site takes HTTP as the web door does."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.site = newMetrics(self).site(self.clock)

    def connect(self) -> tuple[Protocol, StringTransport]:
        network = StringTransport()
        protocol = self.site.buildProtocol(network.getPeer())
        protocol.makeConnection(network)
        return protocol, network

    def test_scrapeSaysChat(self) -> None:
        """A scrape is answered as C{Server: chat}, naming no software."""
        protocol, network = self.connect()
        protocol.dataReceived(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        head = network.value().partition(b"\r\n\r\n")[0]
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "))
        self.assertIn(b"\r\nServer: chat\r\n", head)
        self.assertNotIn(b"twisted", network.value().lower())

    def test_bodyRefused(self) -> None:
        """A body is refused (413) before it is read; the connection closes."""
        protocol, network = self.connect()
        protocol.dataReceived(
            b"POST /metrics HTTP/1.1\r\nContent-Length: 52428800\r\n\r\n" + b"x" * 1000
        )
        self.assertTrue(network.value().startswith(b"HTTP/1.1 413 "))
        self.assertTrue(network.disconnecting)

    def test_requestBoundFromAccept(self) -> None:
        """A request dripped slowly is cut ten seconds after the accept."""
        protocol, network = self.connect()
        for _ in range(10):
            protocol.dataReceived(b"GET /metrics HTTP/1.1\r\n"[:1])
            self.assertFalse(network.disconnecting)
            self.clock.advance(0.999)
        self.clock.advance(0.01)
        self.assertTrue(network.disconnecting)
