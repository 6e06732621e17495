"""
The log format: one line an event, its level, category and text; a full
disk.
"""

from __future__ import annotations

import errno
import io
import json
import re
import time
from datetime import datetime

from twisted.logger import Logger, LogLevel
from twisted.trial.unittest import SynchronousTestCase

from chat.app.log import LogFileObserver
from chat.core.text import plural, printable

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"


class PrintableTests(SynchronousTestCase):
    def test_textUnchanged(self) -> None:
        """Printable text, letters outside ASCII too, is kept as it is."""
        self.assertEqual(printable("hello, wörld".encode()), "hello, wörld")

    def test_unprintableAndInvalidBytesEscaped(self) -> None:
        """
        Control characters, a tab too, and bytes that are not UTF-8 become
        hexadecimal escapes, so a line cannot drive the terminal showing it.
        """
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
        """
        An event is one line: the time, the level, the component, the
        category, then its text.
        """
        self.log.info(
            "listening on {address}", category="start", address="127.0.0.1:8080"
        )
        [line] = self.lines()
        self.assertRegex(
            line,
            rf"^{STAMP} \[INFO\] \[server\] \[start\] listening on 127\.0\.0\.1:8080$",
        )

    def test_localTimeWithMilliseconds(self) -> None:
        """The time of an event is local time, to the millisecond."""
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
        """
        A relay event is two lines for each line relayed: RX with its sender
        and the line escaped, then BROADCAST with the number of recipients.
        """
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
        """A relay to one recipient says C{1 client}, in the singular."""
        self.log.info("relayed", sender=0, recipients=1, relayedLines=[b"hi"])
        self.assertTrue(self.lines()[1].endswith("[BROADCAST] to 1 client"))

    def test_componentNamed(self) -> None:
        """The component given to the observer is named in its lines."""
        stream = io.BytesIO()
        Logger(observer=LogFileObserver(stream, "client")).error("x", category="RX")
        self.assertIn(b"[ERROR] [client] [RX] x", stream.getvalue())

    def test_levelsNamed(self) -> None:
        """Each level is named in capitals: DEBUG, INFO, WARN and ERROR."""
        for level in (LogLevel.debug, LogLevel.info, LogLevel.warn, LogLevel.error):
            self.log.emit(level, "x", category="c")
        tags = [line.split()[2] for line in self.lines()]
        self.assertEqual(tags, ["[DEBUG]", "[INFO]", "[WARN]", "[ERROR]"])


class PluralTests(SynchronousTestCase):
    def test_plural(self) -> None:
        """
        L{plural} gives the singular for one and the plural otherwise, zero
        included.
        """
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
        """
        In JSON, an event is one object: its time with its zone, level,
        component, category, text and its own fields, bytes escaped and a
        failure as its message.
        """
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
        """
        In JSON, a relay event is one object for each line relayed, the line
        escaped as its text, with its sender and number of recipients.
        """
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
        """
        In JSON, an event whose text holds newlines is still one line, the
        text kept whole in it.
        """
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
        """
        On a full disk, the failure is reported once and logging goes on;
        once there is space, what was buffered is written, and what is
        logged after.
        """
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
        """Closing the log on a full disk reports the failure rather than raising it."""
        self.log.info("lost", category="c")
        self.observer.close()
        self.assertEqual(len(self.errors), 1)

    def test_reopenWritesWhatWasBufferedToTheOldStream(self) -> None:
        """
        On reopening, what was buffered goes to the old stream, and what is
        logged after to the new one alone.
        """
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
