"""
The log format (SPEC section 3).
"""

from __future__ import annotations

import io
import re
import time

from twisted.logger import Logger, LogLevel
from twisted.trial.unittest import SynchronousTestCase

from chat.log import LogFileObserver, printable

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

    def test_componentNamed(self) -> None:
        stream = io.BytesIO()
        Logger(observer=LogFileObserver(stream, "client")).error("x", category="RX")
        self.assertIn(b"[ERROR] [client] [RX] x", stream.getvalue())

    def test_levelsNamed(self) -> None:
        for level in (LogLevel.debug, LogLevel.info, LogLevel.warn, LogLevel.error):
            self.log.emit(level, "x", category="c")
        tags = [line.split()[2] for line in self.lines()]
        self.assertEqual(tags, ["[DEBUG]", "[INFO]", "[WARN]", "[ERROR]"])
