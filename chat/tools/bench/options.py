"""
The command line of C{chat-bench}.
"""

from __future__ import annotations

from twisted.python import usage

from chat.app import parsing
from chat.tools.cli import ToolOptions

PROGRAM = "chat-bench"


class Options(ToolOptions):
    program = PROGRAM
    longdesc = (
        "A load generator for chat servers that speak the mini_serv protocol: "
        "N connections, S senders, lines of B bytes at a rate or flat out; "
        "reports deliveries per second, latency percentiles, lost lines and "
        "order violations."
    )
    optParameters = [
        ["clients", "c", "100", "Connections."],
        ["senders", "s", "10", "Connections that send (the first S)."],
        ["size", "b", "64", "Bytes per line, without the newline (at least 40)."],
        ["rate", "r", "0", "Lines/s per sender; 0 = flat out, limited by --window."],
        ["window", "w", "64", "Lines each sender may have in flight."],
        ["duration", "d", "5", "Seconds measured."],
        ["warmup", None, "1", "Seconds of sending before the measurement."],
        ["drain", None, "5", "Seconds allowed after it for every line to arrive."],
        ["workers", "j", "1", "Processes to share the connections."],
        ["connect-batch", None, "32", "Connections being opened at once per worker."],
        ["timeout", None, "60", "Seconds allowed to connect and settle."],
    ]
    optFlags = [
        ["json", None, "Print the report as JSON."],
        [
            "ws",
            None,
            "Connect as browsers do: a WebSocket to /ws of each target, the server's --web port.",  # noqa: E501
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["targets"] = []

    def opt_target(self, target: str) -> None:
        """
        A server as HOST:PORT (default 127.0.0.1:8080); repeatable: connections are spread over the targets, which must be nodes of one room.
        """  # noqa: E501 (usage.Options folds the docstring into one paragraph)
        self["targets"].append(parsing.hostAndPort("--target", target))

    def postOptions(self) -> None:
        self["targets"] = self["targets"] or [("127.0.0.1", 8080)]
        for name, least in WHOLE_NUMBERS:
            self[name] = parsing.wholeNumber(f"--{name}", self[name], least)
        for name, lowest in DECIMALS:
            self[name] = parsing.decimal(f"--{name}", self[name], lowest)
        if self["clients"] - self["senders"] < self["workers"]:
            raise usage.UsageError(
                "--clients must exceed --senders by at least --workers "
                "(each worker needs a connection that only receives)"
            )


WHOLE_NUMBERS: list[tuple[str, int]] = [
    ("clients", 2),
    ("senders", 1),
    ("size", 40),
    ("window", 1),
    ("workers", 1),
    ("connect-batch", 1),
]
"""The options that are whole numbers, and their least values."""

DECIMALS: list[tuple[str, float]] = [
    ("rate", 0.0),
    ("duration", 0.1),
    ("warmup", 0.0),
    ("drain", 0.0),
    ("timeout", 1.0),
]
"""The options that are numbers (of seconds, of lines per second), and their
least values."""
