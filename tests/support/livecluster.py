"""
A real C{redis-server} and cluster nodes (C{twistd -n chat --redis ...}) for
the cluster tests, with clients that know their cluster-wide ids.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from chat.core import wire
from tests.support.live import DEADLINE, Client, Server, freePort, waitFor

REDIS_SERVER = shutil.which("redis-server")


class RedisServer:
    """
    C{redis-server} on a free loopback port, with its data (an append-only
    file, so that a restart keeps everything) in C{directory}.
    """

    def __init__(self, directory: Path, *arguments: str) -> None:
        if REDIS_SERVER is None:
            missing = (
                "redis-server is not installed; the cluster tests need it"
                " (Debian, Ubuntu: apt-get install redis-server)"
            )
            # Under CI a missing Redis is a failure, elsewhere a skip.
            if os.environ.get("CI") == "true":
                raise AssertionError(missing)
            pytest.skip(missing)
        self.directory = directory
        self.arguments = arguments
        directory.mkdir(exist_ok=True)
        self.port = freePort()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        """Start it, on the same port and data as before if it ran already."""
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,  # type: ignore[list-item]
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--logfile",
                "redis.log",
                *self.arguments,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        waitFor(self._answers, "redis-server to answer")

    def _answers(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            log = self.directory / "redis.log"
            raise AssertionError(f"redis-server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1) as probe:
                probe.sendall(b"PING\r\n")
                # +PONG, or -NOAUTH with a password: it answers either way.
                return probe.recv(64)[:1] in (b"+", b"-")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop it as an operator would (SIGTERM: it writes its data out)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(DEADLINE)
        self.process = None

    def cli(self, *command: str) -> str:
        """The reply to C{command}, through C{redis-cli}."""
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *command],
            capture_output=True,
            text=True,
            check=True,
            timeout=DEADLINE,
        ).stdout.strip()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(DEADLINE)


class Node(Server):
    """A cluster node in a directory of its own."""

    def __init__(self, directory: Path, redis: RedisServer, *arguments: str) -> None:
        directory.mkdir()
        super().__init__(directory, "--redis", redis.url, *arguments)

    def waitForLog(self, pattern: str, count: int = 1) -> None:
        """Until the log has C{count} lines matching C{pattern}."""
        waitFor(
            lambda: len(re.findall(pattern, self.logText())) >= count,
            f"{count} log lines matching {pattern!r} from node on {self.port}",
        )

    def crash(self) -> None:
        """Kill it at once, as a power cut would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(DEADLINE)


class Cluster:
    """Nodes sharing one Redis server, and clients numbered across them."""

    def __init__(self, directory: Path, redis: RedisServer) -> None:
        self.directory = directory
        self.redis = redis
        self.nodes: list[Node] = []
        self.clients: list[Client] = []

    def start(self, count: int, *arguments: str) -> list[Node]:
        """C{count} more nodes, once they have joined the cluster."""
        started = [
            Node(
                self.directory / f"node{len(self.nodes) + index}",
                self.redis,
                *arguments,
            )
            for index in range(count)
        ]
        self.nodes.extend(started)
        for node in started:
            node.waitForLog(r"\[cluster\] joined the cluster")
        return started

    def connect(self, node: Node) -> Client:
        """
        A new client of C{node}, once every client before it, on every
        node, has seen it arrive: its id is the number of those before it.
        """
        client = Client(node.port)
        clientId = len(self.clients)
        for other in self.clients:
            other.expect(wire.arrived(clientId))
        if not self.clients:
            # Nobody to see it arrive: its id is in the log.
            node.waitForLog(rf"\[STATE\] client {clientId} connected")
        self.clients.append(client)
        return client

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()
        for client in self.clients:
            client.close()
