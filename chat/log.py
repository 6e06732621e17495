"""
The server log (SPEC section 3): C{twisted.logger} events written one per
line as::

    2026-11-23 15:52:18.123 [INFO] [server] [start] listening on 127.0.0.1:8080

Events carry a C{category} field (C{start}, C{STATE}, C{RX}, C{BROADCAST},
C{stop}, ...).  A relay event (one per received chunk, carrying
C{relayedLines}) is written as an C{RX} and a C{BROADCAST} line per relayed
line, so the file reads as if every line had been logged on its own while
the relay pays for one event per chunk.
"""

from __future__ import annotations

import time
from typing import BinaryIO

from twisted.logger import ILogObserver, LogEvent, LogLevel, eventAsText
from zope.interface import implementer

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


def printable(data: bytes) -> str:
    """
    C{data} as text for the log: UTF-8 where it decodes, every byte that does
    not and every unprintable character escaped (C{\\x00}, C{\\xff}, C{\\t}).
    """
    text = data.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


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


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def openLog(path: str) -> BinaryIO:
    """
    Open the log at C{path} for appending, through a buffer; C{-} is
    standard output.  The log is UTF-8, written as bytes.
    """
    if path == "-":
        # Not sys.stdout: twistd has put a file of its own there.
        return open(1, "wb", buffering=BUFFER_SIZE, closefd=False)
    return open(path, "ab", buffering=BUFFER_SIZE)


@implementer(ILogObserver)
class LogFileObserver:
    """
    Writes events of C{level} and above to a byte stream, as UTF-8 text in
    the format of SPEC section 3.

    The level is checked here rather than by a L{FilteringLogObserver}: this
    observer sees an event per relayed chunk, and a set lookup is a fraction
    of the cost of a predicate.  Writes are buffered by the stream; call
    L{flush} to push them out.
    """

    def __init__(
        self,
        stream: BinaryIO,
        component: str = "server",
        level: LogLevel = LogLevel.debug,
    ) -> None:
        self._stream = stream
        self._component = component
        self._levels = frozenset(
            candidate for candidate in LogLevel.iterconstants() if candidate >= level
        )
        self._second = -1
        self._secondText = ""

    def __call__(self, event: LogEvent) -> None:
        if event.get("log_level") not in self._levels:
            return
        head = self._head(event)
        lines = event.get("relayedLines")
        if lines is None:
            category = event.get("category") or event.get("log_namespace", "-")
            text = eventAsText(event, includeTimestamp=False, includeSystem=False)
            text = text.replace("\n", "\n    ")
            line = f"{head} [{category}] {text}\n"
            self._stream.write(line.encode("utf-8", "backslashreplace"))
            return
        rx = f"{head} [RX] [client {event['sender']}] ".encode()
        broadcast = f"\n{head} [BROADCAST] to {event['recipients']} clients\n".encode()
        block = _printableBlock(lines)
        self._stream.write(rx + block.replace(b"\n", broadcast + rx) + broadcast)

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

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()
