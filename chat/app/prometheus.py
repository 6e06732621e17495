"""
C{--metrics}: the room's counts as Prometheus collectors, served as
C{GET /metrics} in the Prometheus text format, beside the process's own
(C{process_*}, C{python_info}) and the server's version
(C{chat_build_info}).

A relayed chunk counts its lines times its recipients as deliveries in one
addition: nothing is counted per recipient.  The process's collectors read
C{/proc} when scraped, never while the room relays.
"""

from __future__ import annotations

from collections.abc import Sized

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
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
    The counters of C{--metrics}, in a registry of their own.

    Counters are served without their C{_created} series, for the whole
    process: a scrape gets one series a counter, its total.
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
        self._connections = Counter(
            "chat_connections",
            "Connections accepted and given an id.",
            registry=registry,
        )
        self._lines = Counter(
            "chat_lines_received", "Lines received and relayed.", registry=registry
        )
        self._bytes = Counter(
            "chat_bytes_received",
            "Bytes of the lines received and relayed, without delimiters.",
            registry=registry,
        )
        self._deliveries = Counter(
            "chat_deliveries",
            "Relayed lines times the clients they were sent to.",
            registry=registry,
        )
        self._turnedAway = Counter(
            "chat_turned_away",
            "Connections turned away, by reason.",
            ["reason"],
            registry=registry,
        )
        self._disconnects = Counter(
            "chat_disconnects",
            "Clients gone, by reason.",
            ["reason"],
            registry=registry,
        )
        self._throttled = Counter(
            "chat_throttled", "Flood-control pauses.", registry=registry
        )
        for reason in TURNED_AWAY:
            self._turnedAway.labels(reason)
        for reason in DISCONNECTS:
            self._disconnects.labels(reason)

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
        self._connections.inc()

    def relayed(self, lines: list[bytes], recipients: int) -> None:
        self._lines.inc(len(lines))
        self._bytes.inc(sum(map(len, lines)))
        self._deliveries.inc(len(lines) * recipients)

    def deliveredRemote(self, data: bytes, recipients: int) -> None:
        self._deliveries.inc(data.count(b"\n") * recipients)

    def turnedAway(self, reason: str) -> None:
        self._turnedAway.labels(reason).inc()

    def disconnected(self, reason: str) -> None:
        self._disconnects.labels(reason).inc()

    def throttled(self) -> None:
        self._throttled.inc()

    def site(self, clock: IReactorTime) -> WebFactory:
        """
        A web site with the metrics at C{/metrics}, whose requests have
        their time bound on C{clock} (L{chat.web.admission}).
        """
        root = Resource()
        root.putChild(b"metrics", _MetricsPage(self.registry))
        return WebFactory(ChatSite(root), clock)


class _MetricsPage(Resource):
    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self._registry = registry

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode())
        return generate_latest(self._registry)
