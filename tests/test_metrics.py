"""
C{--metrics}: exact counts after a known exchange, in memory and over HTTP
from a real server.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chat.limits import Limits
from chat.prometheus import PrometheusMetrics
from chat.protocol import TurnedAway
from tests.fakes import FakeRoom
from tests.live import DEADLINE, Client, StartServer, waitFor


class CountsTests(SynchronousTestCase):
    def test_exchange(self) -> None:
        metrics = PrometheusMetrics()
        limits = Limits(
            maxClients=3, sendqHard=1000, sendqSoft=1000, floodRate=1, floodBurst=2
        )
        fake = FakeRoom(limits=limits, metrics=metrics)
        metrics.watchClients(fake.room.clients)
        a, _ = fake.connect()
        b, bOut = fake.connect()
        c, _ = fake.connect()
        self.assertIsInstance(fake.room.buildProtocol(None), TurnedAway)
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
        self.site = PrometheusMetrics().site(self.clock)

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


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/metrics", timeout=DEADLINE
    ) as response:
        assert response.headers["content-type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


@pytest.mark.live
def test_countsOverHTTP(startServer: StartServer) -> None:
    server = startServer("--max-clients", "2", "--metrics", "tcp:0:interface=127.0.0.1")
    port = int(
        waitFor(
            lambda: re.search(
                r"listening on tcp 127\.0\.0\.1:(\d+) \(metrics\)", server.logText()
            ),
            "the metrics listener",
        ).group(1)
    )
    a, b = server.connect(), server.connect()
    full = Client(server.port)
    assert full.readToEnd() == b"server: server full\n"
    a.send(b"hello\nworld\n")
    b.expect(b"client 0: hello\nclient 0: world\n")
    b.close()
    a.expect(b"server: client 1 just left\n")
    expected = {
        "chat_clients": 1.0,
        "chat_connections_total": 2.0,
        'chat_turned_away_total{reason="full"}': 1.0,
        "chat_lines_received_total": 2.0,
        "chat_bytes_received_total": 10.0,
        "chat_deliveries_total": 2.0,
        'chat_disconnects_total{reason="closed"}': 1.0,
        "chat_throttled_total": 0.0,
    }
    samples = scrape(port)
    assert {name: samples.get(name) for name in expected} == expected


@pytest.mark.live
def test_badMetricsEndpoint(tmp_path: Path) -> None:
    twistd = str(Path(sys.executable).with_name("twistd"))
    done = subprocess.run(
        [twistd, "-n", "chat", "--metrics", "tcp:99999"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=DEADLINE,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("twistd chat: error: --metrics: ")
    assert done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
