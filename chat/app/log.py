"""
The server log: C{twisted.logger} events written one per
line as::

    2026-11-23 15:52:18.123 [INFO] [server] [start] listening on tcp 127.0.0.1:8080

Events carry a C{category} field (C{start}, C{STATE}, C{RX}, C{BROADCAST},
C{stop}, ...).  A relay event (one per received chunk, carrying
C{relayedLines}) is written as an C{RX} and a C{BROADCAST} line per relayed
line, so the file reads as if every line had been logged on its own while
the relay pays for one event per chunk.  C{--log-format json} writes the
same events as one JSON object a line instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import BinaryIO

from twisted.logger import ILogObserver, LogEvent, LogLevel, eventAsText
from zope.interface import implementer

from chat.core.text import plural, printable

LEVELS = {
    "debug": LogLevel.debug,
    "info": LogLevel.info,
    "warn": LogLevel.warn,
    "error": LogLevel.error,
}
"""The names C{--log-level} accepts."""

_LEVEL_TAGS = {
    LogLevel.debug: "DEBUG",
    LogLevel.info: "INFO",
    LogLevel.warn: "WARN",
    LogLevel.error: "ERROR",
    LogLevel.critical: "CRITICAL",
}

BUFFER_SIZE = 1 << 16
"""Bytes of log text held in memory before a write to the file."""


_PLAIN = bytes(range(0x20, 0x7F)) + b"\n"
"""Bytes that stand for themselves in the log."""


def _printableBlock(lines: list[bytes]) -> bytes:
    """
    C{lines} escaped as L{printable} does, as UTF-8, joined with newlines;
    without decoding anything when they are plain ASCII, as they mostly are.
    """
    block = b"\n".join(lines)
    if not block.translate(None, _PLAIN):
        return block
    return "\n".join(map(printable, lines)).encode("utf-8")


def openLog(path: str) -> BinaryIO:
    """
    Open the log at C{path} for appending, through a buffer; C{-} is
    standard output.  The log is UTF-8, written as bytes.
    """
    if path == "-":
        # Not sys.stdout: twistd has put a file of its own there.
        return open(1, "wb", buffering=BUFFER_SIZE, closefd=False)
    return open(path, "ab", buffering=BUFFER_SIZE)


class TextFormat:
    """
    Events as the lines of the server log, for people.  A relay event becomes
    an C{RX} and a C{BROADCAST} line per relayed line.
    """

    def __init__(self, component: str) -> None:
        self._component = component
        self._second = -1
        self._secondText = ""

    def __call__(self, event: LogEvent) -> bytes:
        head = self._head(event)
        lines = event.get("relayedLines")
        if lines is None:
            category = event.get("category") or event.get("log_namespace", "-")
            text = eventAsText(event, includeTimestamp=False, includeSystem=False)
            text = text.replace("\n", "\n    ")
            return f"{head} [{category}] {text}\n".encode("utf-8", "backslashreplace")
        rx = f"{head} [RX] [client {event['sender']}] ".encode()
        recipients = plural(event["recipients"], "client")
        broadcast = f"\n{head} [BROADCAST] to {recipients}\n".encode()
        block = _printableBlock(lines)
        return rx + block.replace(b"\n", broadcast + rx) + broadcast

    def _head(self, event: LogEvent) -> str:
        when = event.get("log_time") or time.time()
        second = int(when)
        if second != self._second:
            self._second = second
            self._secondText = time.strftime(
                "%Y-%m-%d %H:%M:%S", time.localtime(second)
            )
        millis = int((when - second) * 1000)
        level = _LEVEL_TAGS[event["log_level"]]
        return f"{self._secondText}.{millis:03d} [{level}] [{self._component}]"


class JSONFormat:
    """
    Events as one JSON object a line, for log shippers: C{time} (ISO 8601,
    local time with its offset), C{level}, C{component}, C{category},
    C{text}, and the event's own fields.  A relay event becomes one object
    per relayed line, whose C{text} is the line (escaped as in the text
    format), with the C{sender} and the number of C{recipients}.
    """

    def __init__(self, component: str) -> None:
        self._component = component

    def __call__(self, event: LogEvent) -> bytes:
        head = {
            "time": datetime.fromtimestamp(event.get("log_time") or time.time())
            .astimezone()
            .isoformat(timespec="milliseconds"),
            "level": _LEVEL_TAGS[event["log_level"]],
            "component": self._component,
        }
        lines = event.get("relayedLines")
        if lines is None:
            category = event.get("category") or event.get("log_namespace", "-")
            text = eventAsText(event, includeTimestamp=False, includeSystem=False)
            fields = {
                key: _jsonValue(value)
                for key, value in event.items()
                if not key.startswith("log_") and key != "category"
            }
            return _jsonLine({**head, "category": category, "text": text, **fields})
        relay = {"sender": event["sender"], "recipients": event["recipients"]}
        return b"".join(
            _jsonLine({**head, "category": "RX", "text": printable(line), **relay})
            for line in lines
        )


def _jsonValue(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return printable(value)
    return str(value)


def _jsonLine(fields: dict[str, object]) -> bytes:
    return (
        json.dumps(fields, ensure_ascii=False).encode("utf-8", "backslashreplace")
        + b"\n"
    )


FORMATS: dict[str, Callable[[str], Callable[[LogEvent], bytes]]] = {
    "text": TextFormat,
    "json": JSONFormat,
}
"""The names C{--log-format} accepts, and what each writes."""


@implementer(ILogObserver)
class LogFileObserver:
    """
    Writes events of C{level} and above to a byte stream, as UTF-8 text in
    one of the L{FORMATS}.

    The level is checked here rather than by a L{FilteringLogObserver}: this
    observer sees an event per relayed chunk, and a set lookup is a fraction
    of the cost of a predicate.  Writes are buffered by the stream; call
    L{flush} to push them out.

    A stream that cannot be written (a full disk) does not stop anything:
    C{onError} is told of the first failure, what the stream's buffer holds
    is written once it can be, and what does not fit meanwhile is dropped.
    """

    def __init__(
        self,
        stream: BinaryIO,
        component: str = "server",
        level: LogLevel = LogLevel.debug,
        format: str = "text",
        onError: Callable[[OSError], None] | None = None,
    ) -> None:
        self._stream = stream
        self._format = FORMATS[format](component)
        self._levels = frozenset(
            candidate for candidate in LogLevel.iterconstants() if candidate >= level
        )
        self._onError = onError
        self._failed = False

    def __call__(self, event: LogEvent) -> None:
        if event.get("log_level") in self._levels:
            self._attempt(self._stream.write, self._format(event))

    def flush(self) -> None:
        self._attempt(self._stream.flush)

    def reopen(self, stream: BinaryIO) -> None:
        """
        Write what is buffered to the current stream, close it, and go on
        with C{stream} (the same path opened again, once the old file has
        been moved away).
        """
        self.close()
        self._stream = stream

    def close(self) -> None:
        self._attempt(self._stream.close)

    def _attempt(self, action: Callable[..., object], *arguments: bytes) -> None:
        try:
            action(*arguments)
        except OSError as failed:
            if not self._failed and self._onError is not None:
                self._onError(failed)
            self._failed = True
