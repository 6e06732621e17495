"""
The log format: one line an event, its level, category and text.
"""

from __future__ import annotations

import errno
import io
import json
import re
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
from twisted.logger import Logger, LogLevel
from twisted.trial.unittest import SynchronousTestCase

from chat.app.log import LogFileObserver, plural, printable
from tests.live import DEADLINE, TWISTD, Client, freePort, run, waitFor

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"


class PrintableTests(SynchronousTestCase):
    def test_textUnchanged(self) -> None:
        self.assertEqual(printable("hello, wörld".encode()), "hello, wörld")

    def test_unprintableAndInvalidBytesEscaped(self) -> None:
        self.assertEqual(
            printable(b"a\x00b\tc\xff\x1b[2J"), "a\\x00b\\x09c\\xff\\x1b[2J"
        )


class ObserverTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.stream = io.BytesIO()
        self.log = Logger(observer=LogFileObserver(self.stream))

    def lines(self) -> list[str]:
        return self.stream.getvalue().decode().splitlines()

    def test_formatOfAnEvent(self) -> None:
        self.log.info(
            "listening on {address}", category="start", address="127.0.0.1:8080"
        )
        [line] = self.lines()
        self.assertRegex(
            line,
            rf"^{STAMP} \[INFO\] \[server\] \[start\] listening on 127\.0\.0\.1:8080$",
        )

    def test_localTimeWithMilliseconds(self) -> None:
        when = 1_700_000_000.0421
        LogFileObserver(self.stream)(
            {
                "log_time": when,
                "log_level": LogLevel.warn,
                "log_format": "late",
                "category": "stop",
            }
        )
        expected = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))
        self.assertEqual(self.lines(), [f"{expected}.042 [WARN] [server] [stop] late"])

    def test_relayEventIsOneRxAndBroadcastLinePerLine(self) -> None:
        self.log.info(
            "relayed",
            category="RX",
            sender=3,
            recipients=2,
            relayedLines=[b"hello everyone", b"\x00\xff"],
        )
        lines = [re.sub(f"^{STAMP} ", "", line) for line in self.lines()]
        self.assertEqual(
            lines,
            [
                "[INFO] [server] [RX] [client 3] hello everyone",
                "[INFO] [server] [BROADCAST] to 2 clients",
                "[INFO] [server] [RX] [client 3] \\x00\\xff",
                "[INFO] [server] [BROADCAST] to 2 clients",
            ],
        )

    def test_oneRecipientIsOneClient(self) -> None:
        self.log.info("relayed", sender=0, recipients=1, relayedLines=[b"hi"])
        self.assertTrue(self.lines()[1].endswith("[BROADCAST] to 1 client"))

    def test_componentNamed(self) -> None:
        stream = io.BytesIO()
        Logger(observer=LogFileObserver(stream, "client")).error("x", category="RX")
        self.assertIn(b"[ERROR] [client] [RX] x", stream.getvalue())

    def test_levelsNamed(self) -> None:
        for level in (LogLevel.debug, LogLevel.info, LogLevel.warn, LogLevel.error):
            self.log.emit(level, "x", category="c")
        tags = [line.split()[2] for line in self.lines()]
        self.assertEqual(tags, ["[DEBUG]", "[INFO]", "[WARN]", "[ERROR]"])


class PluralTests(SynchronousTestCase):
    def test_plural(self) -> None:
        self.assertEqual(
            [plural(n, "client") for n in (0, 1, 2)],
            ["0 clients", "1 client", "2 clients"],
        )


class JSONFormatTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.stream = io.BytesIO()
        observer = LogFileObserver(self.stream, "server", format="json")
        self.log = Logger(observer=observer)

    def objects(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def test_eventWithItsFields(self) -> None:
        self.log.warn(
            "client {clientId} cut off: {why}",
            category="STATE",
            clientId=7,
            why="SendQ exceeded",
            raw=b"\xff",
            failure=ValueError("bad"),
        )
        [event] = self.objects()
        when = datetime.fromisoformat(str(event.pop("time")))
        self.assertIsNotNone(when.tzinfo)
        self.assertLess(abs(when.timestamp() - time.time()), 60)
        self.assertEqual(
            event,
            {
                "level": "WARN",
                "component": "server",
                "category": "STATE",
                "text": "client 7 cut off: SendQ exceeded",
                "clientId": 7,
                "why": "SendQ exceeded",
                "raw": "\\xff",
                "failure": "bad",
            },
        )

    def test_relayEventIsOneObjectPerLine(self) -> None:
        self.log.info(
            "relayed",
            category="RX",
            sender=3,
            recipients=1,
            count=2,
            relayedLines=[b"hello \xe2\x80\xae", b"\x1b[2J\xff"],
        )
        events = self.objects()
        for event in events:
            del event["time"]
        relay = {"level": "INFO", "component": "server", "category": "RX"}
        self.assertEqual(
            events,
            [
                {**relay, "text": "hello \\u202e", "sender": 3, "recipients": 1},
                {**relay, "text": "\\x1b[2J\\xff", "sender": 3, "recipients": 1},
            ],
        )

    def test_oneLinePerObject(self) -> None:
        self.log.info("two\nlines {x}", category="c", x="a\nb")
        [line] = self.stream.getvalue().splitlines()
        self.assertEqual(json.loads(line)["text"], "two\nlines a\nb")


class Disk(io.RawIOBase):
    """A file on a disk that can be full."""

    def __init__(self) -> None:
        self.full = True
        self.written = b""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        chunk = bytes(data)  # type: ignore[call-overload]
        self.written += chunk
        return len(chunk)


class FullDiskTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.disk = Disk()
        self.errors: list[OSError] = []
        self.observer = LogFileObserver(
            io.BufferedWriter(self.disk, 64), onError=self.errors.append
        )
        self.log = Logger(observer=self.observer)

    def test_writesResumeWhenThereIsSpace(self) -> None:
        self.log.info("early", category="c")
        self.observer.flush()
        for n in range(10):  # more than the buffer holds: some are dropped
            self.log.info("while full {n}", category="c", n=n)
            self.observer.flush()
        self.assertEqual(self.disk.written, b"")
        self.assertEqual([e.errno for e in self.errors], [errno.ENOSPC])
        self.disk.full = False
        self.observer.flush()
        self.assertIn(b"[c] early\n", self.disk.written)
        self.log.info("later", category="c")
        self.observer.flush()
        self.assertTrue(self.disk.written.endswith(b"[c] later\n"))
        self.assertEqual(len(self.errors), 1)

    def test_closeOnAFullDisk(self) -> None:
        self.log.info("lost", category="c")
        self.observer.close()
        self.assertEqual(len(self.errors), 1)

    def test_reopenWritesWhatWasBufferedToTheOldStream(self) -> None:
        self.disk.full = False
        self.log.info("old", category="c")
        new = io.BytesIO()
        self.observer.reopen(new)
        self.log.info("new", category="c")
        self.observer.flush()
        self.assertIn(b"[c] old\n", self.disk.written)
        self.assertNotIn(b"new", self.disk.written)
        self.assertIn(b"[c] new\n", new.getvalue())
        self.assertNotIn(b"old", new.getvalue())


@pytest.mark.live
def test_fullDiskSaidOnceAndServedOn(tmp_path: Path) -> None:
    server, sender, reader = _serverWithTwoClients(tmp_path, "--logfile", "/dev/full")
    try:
        # Several times what the log buffers: several writes fail.
        line = b"y" * 999 + b"\n"
        sender.send(line * 400)
        reader.expect((b"client 0: " + line) * 400)
        server.terminate()
        out, err = server.communicate(timeout=DEADLINE)
    finally:
        server.kill()
    assert server.returncode == 0
    assert err.decode() == (
        "twistd chat: cannot write the log '/dev/full': No space left on device;"
        " serving on, logging what the file takes\n"
    )
    assert b"Unhandled" not in out and b"Traceback" not in out


def _serverWithTwoClients(
    directory: Path, *arguments: str
) -> tuple[subprocess.Popen[bytes], Client, Client]:
    """
    C{twistd -n chat ARGUMENTS} on a free port, which it is given rather
    than asked to pick (its log may say nothing), and two clients of it.
    """
    port = freePort()
    server = subprocess.Popen(
        [TWISTD, "-n", "--pidfile=", "chat", "--port", str(port), *arguments],
        cwd=directory,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = waitFor(lambda: _connect(port), "the server to listen")
    second = Client(port)
    first.expect(b"server: client 1 just arrived\n")
    return server, first, second


def _connect(port: int) -> Client | None:
    try:
        return Client(port)
    except ConnectionRefusedError:
        return None


@pytest.mark.live
def test_unwritableLogRefusedAtStart(tmp_path: Path) -> None:
    port = freePort()
    done = run("--port", str(port), "--logfile", "no/such/dir.log", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1,
        "twistd chat: error: --logfile: cannot write 'no/such/dir.log':"
        " no directory 'no/such'\n",
    )
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.live
def test_jsonLogOfARealServer(tmp_path: Path) -> None:
    server, sender, reader = _serverWithTwoClients(tmp_path, "--log-format", "json")
    try:
        sender.send(b"one\n\x1b]0;two\x07\n")
        reader.expect(b"client 0: one\nclient 0: \x1b]0;two\x07\n")
        server.terminate()
        assert server.wait(DEADLINE) == 0
    finally:
        server.kill()
        server.communicate()
    lines = (tmp_path / "mini_serv.log").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    relayed = [
        (e["sender"], e["recipients"], e["text"]) for e in events if "sender" in e
    ]
    assert relayed == [(0, 1, "one"), (0, 1, "\\x1b]0;two\\x07")]
    [connected] = [e for e in events if "connected from" in e["text"]][1:]
    assert connected["category"] == "STATE" and connected["clientId"] == 1
    assert connected["text"] == f"client 1 connected from {connected['peer']}"
    assert events[-1]["text"] == "stopped"


@pytest.mark.live
def test_badLogFormat(tmp_path: Path) -> None:
    done = run("--port", "0", "--log-format", "xml", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1,
        "twistd chat: error: --log-format: 'xml' is not one of text, json\n",
    )
    assert list(tmp_path.iterdir()) == []
