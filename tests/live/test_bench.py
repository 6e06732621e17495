"""
C{chat-bench}: short real runs against the real server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.live import StartServer, freePort
from tests.support.tools import WrongServer, runTool, serving


def bench(*arguments: str, cwd: Path) -> Any:
    return runTool("chat-bench", *arguments, cwd=cwd)


@pytest.mark.live
def test_shortRunAsJson(startServer: StartServer, tmp_path: Path) -> None:
    """
    A short run against the real server succeeds and gives its figures as
    JSON: nothing lost, extra or out of order, deliveries, lines sent and
    latencies.
    """
    server = startServer()
    done = bench(
        "--target",
        f"127.0.0.1:{server.port}",
        "--clients",
        "20",
        "--senders",
        "4",
        "--duration",
        "1",
        "--warmup",
        "0.3",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["ok"] is True
    assert figures["lost"] == figures["extra"] == figures["order_violations"] == 0
    assert figures["deliveries_per_s"] > 0
    assert figures["lines_sent"] > 0
    assert figures["latency_us"]["samples"] > 0
    assert 0 < figures["latency_us"]["p50"] <= figures["latency_us"]["max"]


@pytest.mark.live
def test_workersOverTwoTargetsAtARate(startServer: StartServer, tmp_path: Path) -> None:
    """
    Two workers over two targets at a fixed rate succeed, with nothing lost,
    and deliver about what the rate asks for.
    """
    server = startServer()
    target = f"127.0.0.1:{server.port}"
    done = bench(
        "--target",
        target,
        "--target",
        target,
        "--clients",
        "12",
        "--senders",
        "3",
        "--rate",
        "200",
        "--workers",
        "2",
        "--duration",
        "1",
        "--warmup",
        "0.2",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert lines["result"] == "OK"
    assert lines["checks"].startswith("lost 0, extra 0, order violations 0")
    # 3 senders at 200 lines/s, each line to 11 others: about 6,600/s.
    perSecond = float(lines["deliveries"].split("= ")[1].split()[0].replace(",", ""))
    assert 5000 < perSecond < 8000


@pytest.mark.live
def test_lostLinesFoundAndReported(tmp_path: Path) -> None:
    """
    Against a server that drops lines, the run fails and counts exactly the
    deliveries lost, and no extra ones.
    """
    dropping = WrongServer(dropEvery=50)
    with serving(dropping):
        done = bench(
            "--target", f"127.0.0.1:{dropping.server_address[1]}",
            "--clients", "6", "--senders", "2", "--rate", "200",
            "--duration", "0.5", "--warmup", "0.2", "--drain", "0.5",
            "--timeout", "5", "--json",
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    figures = json.loads(done.stdout)
    assert figures["ok"] is False
    # Every line dropped was meant for the 5 other clients.
    assert figures["lost"] == 5 * (dropping.relayed // 50)
    assert figures["extra"] == 0


@pytest.mark.live
def test_cannotConnect(tmp_path: Path) -> None:
    """
    A target nobody listens on fails the run with one line that says it
    cannot connect.
    """
    done = bench("--target", f"127.0.0.1:{freePort()}", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("chat-bench: cannot connect")
    assert done.stderr.count("\n") == 1


@pytest.mark.live
def test_badArguments(tmp_path: Path) -> None:
    """
    Bad arguments fail with one line that names the option and what is wrong
    with it.
    """
    for arguments, message in [
        (["--target", "nowhere"], "--target: 'nowhere' is not HOST:PORT"),
        (["--size", "10"], "--size: '10' is not a whole number from 40 to"),
        (["--window", "²"], "--window: '²' is not a whole number"),
        (
            ["--target", "localhost:99999"],
            "--target: 'localhost:99999' is not HOST:PORT",
        ),
        (["--clients", "10", "--senders", "10"], "--clients must exceed --senders"),
    ]:
        done = bench(*arguments, cwd=tmp_path)
        assert done.returncode == 1
        assert done.stderr.startswith(f"chat-bench: {message}"), done.stderr
        assert done.stderr.count("\n") == 1
