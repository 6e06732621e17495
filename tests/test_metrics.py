"""
C{--metrics}: exact counts after a known exchange, in memory and over HTTP
from a real server; the families a scrape has, as Prometheus's own parser
and C{promtool} read them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import enable_created_metrics
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from chat.app.prometheus import PrometheusMetrics
from chat.app.version import version
from chat.core.limits import Limits
from chat.tcp.protocol import TurnedAway
from tests.fakes import FakeRoom
from tests.live import DEADLINE, Client, Server, StartServer, program, waitFor

PROCESS_FAMILIES = {
    "process_virtual_memory_bytes": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_cpu_seconds": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "python_info": "gauge",
}
"""The process's own families, as the Prometheus client library names them."""


def newMetrics(case: SynchronousTestCase) -> PrometheusMetrics:
    """
    Metrics for C{case}; the process's other counters have their
    C{_created} series again once it is over.
    """
    case.addCleanup(enable_created_metrics)
    return PrometheusMetrics()


def families(text: str) -> dict[str, tuple[str, dict[str, float]]]:
    """
    The metric families of C{text}, in the Prometheus text format: each
    name's type and samples, as the Prometheus client library parses them.
    """
    parsed = {}
    for family in text_string_to_metric_families(text):
        samples = {}
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = (
                sample.value
            )
        parsed[family.name] = (family.type, samples)
    return parsed


def checkFamilies(parsed: dict[str, tuple[str, dict[str, float]]]) -> None:
    """
    C{parsed} has the process's families, the server's version as
    C{chat_build_info}, and no C{_created} series.
    """
    for name, kind in PROCESS_FAMILIES.items():
        assert parsed[name][0] == kind, name
    assert parsed["chat_build_info"] == (
        "gauge",
        {f'chat_build_info{{version="{version()}"}}': 1.0},
    )
    assert parsed["chat_connections"][0] == "counter"
    created = [
        sample
        for _, samples in parsed.values()
        for sample in samples
        if "_created" in sample
    ]
    assert created == []


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
        metrics = newMetrics(self)
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


def scrapeText(port: int) -> str:
    """What C{GET /metrics} answers on C{port}."""
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/metrics", timeout=DEADLINE
    ) as response:
        assert response.headers["content-type"].startswith("text/plain")
        return response.read().decode()


def scrape(port: int) -> dict[str, float]:
    text = scrapeText(port)
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def metricsPort(server: Server) -> int:
    """The port C{server} serves its metrics on, as its log says."""
    return int(
        waitFor(
            lambda: re.search(
                r"listening on tcp 127\.0\.0\.1:(\d+) \(metrics\)", server.logText()
            ),
            "the metrics listener",
        ).group(1)
    )


@pytest.mark.live
def test_countsOverHTTP(startServer: StartServer) -> None:
    server = startServer("--max-clients", "2", "--metrics", "tcp:0:interface=127.0.0.1")
    port = metricsPort(server)
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
def test_scrapeOfARealServer(startServer: StartServer) -> None:
    """
    A real server's scrape has the families of a process, its version and
    no C{_created} series, and C{promtool check metrics} (Prometheus's own
    linter) finds nothing wrong with it.
    """
    promtool = program("promtool", "prometheus")
    server = startServer("--metrics", "tcp:0:interface=127.0.0.1")
    port = metricsPort(server)
    a, b = server.connect(), server.connect()
    a.send(b"hello\n")
    b.expect(b"client 0: hello\n")
    text = scrapeText(port)
    parsed = families(text)
    checkFamilies(parsed)
    assert parsed["process_open_fds"][1]["process_open_fds"] >= 4  # two clients
    checked = subprocess.run(
        [promtool, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")


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
