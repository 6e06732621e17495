"""
C{--metrics} over HTTP from a real server: exact counts after a known
exchange, and the families of a scrape as Prometheus's own parser and
C{promtool} read them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.live import DEADLINE, Client, Server, StartServer, program, waitFor
from tests.support.scrapes import checkFamilies, families


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
    """
    After a known exchange a scrape over HTTP gives exact counts: clients,
    connections, the one turned away, lines, bytes, deliveries and
    disconnects.
    """
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
    """
    A bad C{--metrics} endpoint is refused with one line naming the option,
    and nothing is written.
    """
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
