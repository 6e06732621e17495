"""
C{--metrics}: the room's counts as Prometheus collectors, served as
C{GET /metrics} in the Prometheus text format, beside the process's own
(C{process_*}, C{python_info}) and the server's version
(C{chat_build_info}).

A relayed chunk counts its lines times its recipients as deliveries in one
addition of a plain integer: nothing is counted per recipient, and nothing
calls into the client library while the room relays.  The process's collectors read
C{/proc} when scraped, never while the room relays.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from twisted.internet.interfaces import IReactorTime
from twisted.web.resource import Resource
from twisted.web.server import Request
from zope.interface import implementer

from chat.app.version import version
from chat.core.interfaces import IMetrics, IPeers
from chat.core.metrics import DISCONNECTS, TURNED_AWAY
from chat.web.admission import WebFactory
from chat.web.requests import ChatSite


@implementer(IMetrics)
class PrometheusMetrics:
    """
    The counts of C{--metrics}, served from a registry of their own.

    The room's counts are plain integers, added to as it relays (no lock,
    no call into the client library), and read by a collector of their own
    when scraped.  Counters are served without their C{_created} series,
    for the whole process: a scrape gets one series a counter, its total.
    """

    def __init__(self) -> None:
        disable_created_metrics()
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        build = Gauge(
            "chat_build_info",
            "The server's version, as the label says; always 1.",
            ["version"],
            registry=registry,
        )
        build.labels(version()).set(1)
        self._clients = Gauge(
            "chat_clients", "Clients connected to this process.", registry=registry
        )
        self.connections = self.lines = self.bytes = 0
        self.deliveries = self.throttles = 0
        self.turnedAwayFor = dict.fromkeys(TURNED_AWAY, 0)
        self.disconnectsFor = dict.fromkeys(DISCONNECTS, 0)
        registry.register(_RoomCounts(self))

    def watchClients(self, clients: Sized) -> None:
        """C{chat_clients} is the size of C{clients}, read when scraped."""
        self._clients.set_function(lambda: len(clients))

    def watchCluster(self, peers: IPeers) -> None:
        """The cluster's gauges, read from C{peers} when scraped."""
        up = Gauge(
            "chat_cluster_up",
            "Whether this node is in the cluster (1) or not (0).",
            registry=self.registry,
        )
        up.set_function(lambda: int(peers.accepting))
        queue = Gauge(
            "chat_cluster_queue_bytes",
            "Bytes queued for Redis, not yet acknowledged.",
            registry=self.registry,
        )
        queue.set_function(lambda: peers.queuedBytes)

    def connected(self) -> None:
        self.connections += 1

    def relayed(self, lines: list[bytes], recipients: int) -> None:
        self.lines += len(lines)
        self.bytes += sum(map(len, lines))
        self.deliveries += len(lines) * recipients

    def deliveredRemote(self, data: bytes, recipients: int) -> None:
        self.deliveries += data.count(b"\n") * recipients

    def turnedAway(self, reason: str) -> None:
        self.turnedAwayFor[reason] = self.turnedAwayFor.get(reason, 0) + 1

    def disconnected(self, reason: str) -> None:
        self.disconnectsFor[reason] = self.disconnectsFor.get(reason, 0) + 1

    def throttled(self) -> None:
        self.throttles += 1

    def site(self, clock: IReactorTime) -> WebFactory:
        """
        A web site with the metrics at C{/metrics}, whose requests have
        their time bound on C{clock} (L{chat.web.admission}).
        """
        root = Resource()
        root.putChild(b"metrics", _MetricsPage(self.registry))
        return WebFactory(ChatSite(root), clock)


class _RoomCounts(Collector):
    """The room's counts in L{PrometheusMetrics}, as counters, when scraped."""

    def __init__(self, counts: PrometheusMetrics) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        counts = self._counts
        for name, text, value in [
            (
                "chat_connections",
                "Connections accepted and given an id.",
                counts.connections,
            ),
            ("chat_lines_received", "Lines received and relayed.", counts.lines),
            (
                "chat_bytes_received",
                "Bytes of the lines received and relayed, without delimiters.",
                counts.bytes,
            ),
            (
                "chat_deliveries",
                "Relayed lines times the clients they were sent to.",
                counts.deliveries,
            ),
            ("chat_throttled", "Flood-control pauses.", counts.throttles),
        ]:
            yield CounterMetricFamily(name, text, value=value)
        for name, text, byReason in [
            (
                "chat_turned_away",
                "Connections turned away, by reason.",
                counts.turnedAwayFor,
            ),
            ("chat_disconnects", "Clients gone, by reason.", counts.disconnectsFor),
        ]:
            family = CounterMetricFamily(name, text, labels=["reason"])
            for reason, value in byReason.items():
                family.add_metric([reason], value)
            yield family


class _MetricsPage(Resource):
    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self._registry = registry

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode())
        return generate_latest(self._registry)
