"""
The C{twistd chat} command line: its options and the service it makes.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from twisted.internet.endpoints import quoteStringArgument, serverFromString
from twisted.logger import Logger, LogPublisher
from twisted.python import usage

from chat import VersionOption
from chat.limits import Limits
from chat.log import FORMATS, LEVELS
from chat.room import ChatRoom, ClusterRoom
from chat.service import ChatService

if TYPE_CHECKING:
    from chat.cluster.bus import Bus


class Options(VersionOption, usage.Options):
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
            "log-format",
            None,
            "text",
            "Log format: text (a line an event) or json (an object a line).",
        ],
        [
            "max-line",
            None,
            "65536",
            "Longest line relayed in one piece, in bytes; longer ones are split.",
        ],
        [
            "sendq",
            None,
            "32M",
            "Output held for a client past which it is cut off (0: no SendQ limits).",
        ],
        [
            "sendq-soft",
            None,
            "8M",
            "Output held for a client past which it is cut off after --sendq-soft-seconds.",  # noqa: E501
        ],
        [
            "sendq-soft-seconds",
            None,
            "60",
            "How long a client may stay past --sendq-soft.",
        ],
        [
            "flood-rate",
            None,
            "0",
            "Lines per second a client may send before the server stops reading it for a while (0: no limit).",  # noqa: E501
        ],
        [
            "flood-burst",
            None,
            "10",
            "Lines a client may send at once under --flood-rate.",
        ],
        [
            "max-clients",
            None,
            "10000",
            "Clients connected at once; one more is turned away.",
        ],
        [
            "max-per-ip",
            None,
            "0",
            "Clients connected at once from one IP address (0: no limit).",
        ],
        ["idle-timeout", None, "0", "Seconds a client may stay silent (0: forever)."],
        [
            "redis",
            None,
            None,
            "Join a cluster through this Redis server, redis://HOST:PORT/DB.",
        ],
        ["room", None, "main", "With --redis: the cluster's room to join."],
        [
            "backlog",
            None,
            "1024",
            "Connections the kernel queues before they are accepted (with --port).",
        ],  # noqa: E501
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
        self["log-format"] = _logFormat(self["log-format"])
        self["max-line"] = _count("--max-line", self["max-line"], least=1)
        hard = _size("--sendq", self["sendq"])
        soft = _size("--sendq-soft", self["sendq-soft"])
        if hard and soft > hard:
            raise usage.UsageError(f"--sendq-soft: {soft} is more than --sendq {hard}")
        rate = _number("--flood-rate", self["flood-rate"])
        self["limits"] = Limits(
            sendqHard=hard,
            sendqSoft=soft,
            sendqSoftSeconds=_number(
                "--sendq-soft-seconds", self["sendq-soft-seconds"]
            ),
            floodRate=rate or None,
            floodBurst=_count("--flood-burst", self["flood-burst"], least=1),
            maxClients=_count("--max-clients", self["max-clients"], least=1),
            maxPerAddress=_count("--max-per-ip", self["max-per-ip"]),
            idleTimeout=_number("--idle-timeout", self["idle-timeout"]),
        )
        backlog = _count("--backlog", self["backlog"], least=1)
        if self["redis"] is not None:
            self["redis"] = _redis(self["redis"])
        self["room"] = _room(self["room"])
        self["endpoints"] = self["listen"] or [
            tcpDescription(self["port"], self["interface"], backlog)
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
    room: ChatRoom
    if config["redis"] is None:
        bus = None
        room = ChatRoom(log, reactor, config["max-line"], config["limits"])
    else:
        bus = _bus(config["redis"], config["room"], log, reactor)
        room = ClusterRoom(log, reactor, bus, config["max-line"], config["limits"])
        bus.member = room
    service = ChatService(
        room,
        publisher,
        config["logfile"],
        config["log-level"],
        reactor,
        cluster=bus,
        logFormat=config["log-format"],
    )
    for description in config["endpoints"]:
        service.listenOn(description)
    return service


def _bus(url: str, room: str, log: Logger, reactor: Any) -> Bus:
    # Imported here: Redis is needed only in a cluster.
    from chat.cluster.bus import Bus, RedisAddress, RedisLink

    address = RedisAddress.parse(url)
    return Bus(
        room,
        RedisLink(reactor, address),
        RedisLink(reactor, address),
        reactor,
        log,
        where=str(address),
    )


def tcpDescription(port: int, interface: str, backlog: int) -> str:
    """The endpoint description that C{--port} and C{--interface} stand for."""
    return f"tcp:{port}:interface={quoteStringArgument(interface)}:backlog={backlog}"


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise usage.UsageError(f"--port: {value!r} is not a port number (0-65535)")
    return int(value)


def _interface(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise usage.UsageError(f"--interface: {value!r} is not an IP address") from None


def _redis(value: str) -> str:
    from chat.cluster.bus import RedisAddress

    try:
        return str(RedisAddress.parse(value))
    except ValueError as bad:
        raise usage.UsageError(f"--redis: {value!r}: {bad}") from None


def _room(value: str) -> str:
    if not value or not value.isprintable() or any(c.isspace() for c in value):
        raise usage.UsageError(f"--room: {value!r} is not a name without spaces")
    return value


def _level(value: str) -> Any:
    try:
        return LEVELS[value.lower()]
    except KeyError:
        raise usage.UsageError(
            f"--log-level: {value!r} is not one of {', '.join(LEVELS)}"
        ) from None


def _logFormat(value: str) -> str:
    if value not in FORMATS:
        raise usage.UsageError(
            f"--log-format: {value!r} is not one of {', '.join(FORMATS)}"
        )
    return value


def _count(option: str, value: str, least: int = 0) -> int:
    if not value.isdigit() or int(value) < least:
        raise usage.UsageError(
            f"{option}: {value!r} is not a whole number of at least {least}"
        )
    return int(value)


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _size(option: str, value: str) -> int:
    """Bytes, with an optional K, M or G (powers of 1024) after the number."""
    unit = value[-1:].upper() if value[-1:].isalpha() else ""
    number = value[: len(value) - len(unit)]
    if unit not in _UNITS or not number.isdigit():
        raise usage.UsageError(
            f"{option}: {value!r} is not a size (e.g. 65536, 64K, 32M)"
        )
    return int(number) * _UNITS[unit]


def _number(option: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise usage.UsageError(f"{option}: {value!r} is not a number of at least 0")
    return seconds


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
