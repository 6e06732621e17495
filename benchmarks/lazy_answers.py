"""
What a client that asks and never reads costs the server and the others:
the server's peak resident set size and how long a line takes from one
client to another meanwhile, in three cases.

- C{who}: with C{--commands}, one write of 64 KiB of C{/who} lines (about
  13 000 commands) in a room of C{--clients} idle clients.
- C{history}: with C{--history 10000} full (about 4 MB), C{--newcomers}
  connections that never read their history.
- C{ping}: a browser on C{--web} that sends pings and never reads the pongs.

Run from the repository root, e.g.
C{.venv/bin/python benchmarks/lazy_answers.py who --clients 1000};
C{--twistd PATH} measures another build of the server.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEADLINE = 60.0


def peak(pid: int) -> int:
    """The peak resident set size of process C{pid}, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1)) * 1024


def freePort() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connect(port: int, receiveBuffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receiveBuffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receiveBuffer)
    sock.settimeout(DEADLINE)
    sock.connect(("127.0.0.1", port))
    return sock


def readUntil(sock: socket.socket, marker: bytes) -> None:
    data = b""
    while marker not in data:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("connection closed")
        data = data[-len(marker) :] + chunk


def roundTrip(speaker: socket.socket, listener: socket.socket, n: int) -> float:
    """Seconds from a line sent by C{speaker} to its arrival at C{listener}."""
    start = time.monotonic()
    speaker.sendall(b"probe %d\n" % n)
    readUntil(listener, b"probe %d\n" % n)
    return time.monotonic() - start


def who(port: int, options: argparse.Namespace) -> str:
    crowd = [connect(port) for _ in range(options.clients)]
    speaker, listener = crowd[0], crowd[1]
    listener.setblocking(False)
    time.sleep(1.0)
    for each in crowd:  # what they were told so far
        each.setblocking(False)
        try:
            while each.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
        each.settimeout(DEADLINE)
    asker = connect(port, receiveBuffer=4096)
    time.sleep(0.5)
    asker.sendall(b"/who\n" * (65536 // 5))
    worst = max(roundTrip(speaker, listener, n) for n in range(20))
    asker.close()
    return f"worst wait of another client {worst * 1000:.0f} ms"


def history(port: int, options: argparse.Namespace) -> str:
    talker = connect(port)
    body = b"".join(b"%0399d\n" % n for n in range(10000))
    talker.sendall(body)
    time.sleep(2.0)
    witness = connect(port)
    readUntil(witness, b"server: end of history\n")
    newcomers = [connect(port, receiveBuffer=4096) for _ in range(options.newcomers)]
    time.sleep(2.0)
    wait = roundTrip(talker, witness, 0)
    del newcomers
    return f"wait of another client {wait * 1000:.0f} ms"


def ping(port: int, options: argparse.Namespace, log: Path) -> str:
    from tests.support.webclient import PING, WebClient, frame, webPort

    class Log:
        def logText(self) -> str:
            return log.read_text()

    web = WebClient(webPort(Log()), origin=None, receiveBuffer=4096)  # type: ignore[arg-type]
    pings = frame(PING, b"p" * 125, mask=b"ping") * 1000
    sent = 0
    for _ in range(options.pings // 1000):
        try:
            web.sock.sendall(pings)
        except OSError:
            break
        sent += 1000
    time.sleep(1.0)
    cut = "cut off" in log.read_text()
    return f"{sent} pings sent; cut off: {cut}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=["who", "history", "ping"])
    parser.add_argument(
        "--twistd", default=str(Path(sys.executable).with_name("twistd"))
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--newcomers", type=int, default=100)
    parser.add_argument("--pings", type=int, default=200_000)
    parser.add_argument("--sendq", default="32M", help="the hard SendQ limit")
    options = parser.parse_args()
    arguments = {
        "who": ["--commands"],
        "history": ["--history", "10000"],
        "ping": ["--web", "tcp:0:interface=127.0.0.1"],
    }[options.case]
    port = freePort()
    with tempfile.TemporaryDirectory() as directory:
        server = subprocess.Popen(
            [options.twistd, "-n", "--pidfile=", "chat", "--port", str(port)]
            + ["--max-clients", "20000", "--sendq", options.sendq, *arguments],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            log = Path(directory, "mini_serv.log")
            end = time.monotonic() + DEADLINE
            while not (log.exists() and "listening on" in log.read_text()):
                if time.monotonic() > end:
                    raise SystemExit("the server did not start")
                time.sleep(0.05)
            before = peak(server.pid)
            if options.case == "ping":
                outcome = ping(port, options, log)
            else:
                outcome = {"who": who, "history": history}[options.case](port, options)
            time.sleep(1.0)
            after = peak(server.pid)
            text = log.read_text()
            cuts, ran = text.count("cut off"), text.count("ran /who")
        finally:
            server.terminate()
            server.wait(DEADLINE)
    print(
        f"{options.case}: peak RSS {before / 1e6:.0f} -> {after / 1e6:.0f} MB;"
        f" {outcome}; clients cut off: {cuts}"
        + (f"; commands run: {ran}" if options.case == "who" else "")
    )


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
