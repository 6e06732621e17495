"""
The C{twistd chat} command line: its options and the service it makes.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from twisted.internet.endpoints import quoteStringArgument, serverFromString
from twisted.logger import Logger, LogPublisher
from twisted.python import usage

from chat.log import LEVELS
from chat.room import ChatRoom
from chat.service import ChatService


class Options(usage.Options):
    """
    The options of C{twistd chat}.
    """

    synopsis = "[options]"
    longdesc = (
        "A line-based broadcast chat server, byte-compatible with mini_serv: "
        "every line a client sends reaches every other client as "
        "'client N: line'."
    )

    optParameters = [
        ["port", "p", "8080", "TCP port to listen on, 0-65535 (0: any free port)."],
        ["interface", None, "127.0.0.1", "IP address to bind with --port."],
        ["logfile", None, "mini_serv.log", "Server log file; - for standard output."],
        ["log-level", None, "info", "Least level logged: debug, info, warn or error."],
        [
            "max-line",
            None,
            "65536",
            "Longest line relayed in one piece, in bytes; longer ones are split.",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []

    def opt_listen(self, description: str) -> None:
        """
        Listen on this Twisted endpoint description (tcp:6667, ssl:6697:privateKey=key.pem, unix:/run/chat.sock); repeatable; replaces --port and --interface.
        """  # noqa: E501 (usage.Options folds the docstring into one paragraph)
        self["listen"].append(description)

    def parseOptions(self, options: list[str] | None = None) -> None:
        """
        Parse C{options}; a bad one ends the command with one line naming it.

        twistd would print its whole usage text before the error; the error
        alone, on standard error, is what a user needs.
        """
        try:
            super().parseOptions(options)
        except usage.UsageError as bad:
            raise SystemExit(f"twistd chat: error: {bad}") from None

    def postOptions(self) -> None:
        self["port"] = _port(self["port"])
        self["interface"] = _interface(self["interface"])
        self["log-level"] = _level(self["log-level"])
        self["max-line"] = _maxLine(self["max-line"])
        _checkWritable(self["logfile"])
        self["endpoints"] = self["listen"] or [
            tcpDescription(self["port"], self["interface"])
        ]
        for description in self["endpoints"]:
            _checkEndpoint(description)


def makeService(config: Options, reactor: Any = None) -> ChatService:
    """
    The chat server that C{config} describes.
    """
    if reactor is None:
        from twisted.internet import reactor
    publisher = LogPublisher()
    log = Logger(namespace="chat", observer=publisher)
    room = ChatRoom(log, reactor, config["max-line"])
    service = ChatService(
        room, publisher, config["logfile"], config["log-level"], reactor
    )
    for description in config["endpoints"]:
        service.listenOn(description)
    return service


def tcpDescription(port: int, interface: str) -> str:
    """The endpoint description that C{--port} and C{--interface} stand for."""
    return f"tcp:{port}:interface={quoteStringArgument(interface)}"


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise usage.UsageError(f"--port: {value!r} is not a port number (0-65535)")
    return int(value)


def _interface(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise usage.UsageError(f"--interface: {value!r} is not an IP address") from None


def _level(value: str) -> Any:
    try:
        return LEVELS[value.lower()]
    except KeyError:
        raise usage.UsageError(
            f"--log-level: {value!r} is not one of {', '.join(LEVELS)}"
        ) from None


def _maxLine(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise usage.UsageError(f"--max-line: {value!r} is not a positive number")
    return int(value)


def _checkWritable(path: str) -> None:
    if path == "-":
        return
    try:
        open(path, "a").close()
    except OSError as failed:
        raise usage.UsageError(
            f"--logfile: cannot write {path!r}: {failed.strerror}"
        ) from None


def _checkEndpoint(description: str) -> None:
    """
    Parse C{description} as twistd will, so that a typo or an unreadable
    certificate is reported now rather than as a traceback later.
    """
    from twisted.internet import reactor

    try:
        serverFromString(reactor, description)
    except Exception as failed:  # any failure to parse is the user's to fix
        raise usage.UsageError(
            f"--listen: {description!r}: {failed or type(failed).__name__}"
        ) from None
