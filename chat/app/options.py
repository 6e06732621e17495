"""
The options of the C{twistd chat} command line: each is checked as it is
parsed, and a bad one is reported in one line that names it.
"""

from __future__ import annotations

import ipaddress
from contextlib import suppress
from typing import Any

from twisted.internet.endpoints import quoteStringArgument, serverFromString
from twisted.python import usage

from chat.app import parsing
from chat.app.log import FORMATS, LEVELS
from chat.app.version import VersionOption
from chat.core.limits import Limits
from chat.core.values import BadValueError
from chat.people.auth import LOGIN_TIMEOUT, PasswordFileChecker
from chat.people.history import MAX_HISTORY
from chat.people.htpasswd import PasswordFileError


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
            None,
            "Output held for a client past which it is cut off after --sendq-soft-seconds (default: 8M, or --sendq if that is less).",  # noqa: E501
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
        [
            "room",
            None,
            None,
            "With --redis: the cluster's room to join (default: main).",
        ],
        [
            "metrics",
            None,
            None,
            "Serve Prometheus metrics at /metrics on this endpoint (tcp:9100; tcp and ssl bind 127.0.0.1 unless given an interface=).",  # noqa: E501
        ],
        [
            "backlog",
            None,
            "1024",
            "Connections the kernel queues before they are accepted (with --port).",
        ],  # noqa: E501
        [
            "history",
            None,
            "0",
            f"Lines of history a newcomer receives, 0-{MAX_HISTORY} (0: none).",
        ],
        [
            "auth",
            None,
            None,
            "Password file (htpasswd -B format): connections must /login NAME PASSWORD first; implies --commands.",  # noqa: E501
        ],
        [
            "login-timeout",
            None,
            None,
            f"With --auth: seconds a new connection has to log in (default: {LOGIN_TIMEOUT:g}).",  # noqa: E501
        ],
    ]

    optFlags = [
        ["commands", None, "Slash commands: /nick, /me, /msg, /who, /quit, /help."],
        [
            "auth-plaintext",
            None,
            "With --auth: allow plain TCP on addresses other than loopback.",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []
        self["web"] = []
        self["web-origins"] = []
        self["web-hosts"] = []

    def opt_listen(self, description: str) -> None:
        """
        Listen on this Twisted endpoint description (tcp:6667, ssl:6697:privateKey=key.pem, unix:/run/chat.sock); repeatable; replaces --port and --interface.
        """  # noqa: E501 (usage.Options folds the docstring into one paragraph)
        self["listen"].append(description)

    def opt_web(self, description: str) -> None:
        """
        Serve browsers on this Twisted endpoint description (tcp:8081, ssl:8443:privateKey=key.pem; tcp and ssl bind 127.0.0.1 unless given an interface=): the page at /, its WebSocket at /ws; repeatable.
        """  # noqa: E501
        self["web"].append(loopbackByDefault(description))

    def opt_web_host(self, name: str) -> None:
        """
        With --web: also serve requests for this host name (chat.example.org), besides the server's own addresses; repeatable.
        """  # noqa: E501
        from chat.web import hosts

        self["web-hosts"].append(hosts.hostName("--web-host", name))

    def opt_web_origin(self, origin: str) -> None:
        """
        With --web: let pages of this origin (https://chat.example.org) open the WebSocket, besides the page's own; repeatable.
        """  # noqa: E501
        from chat.web import origins

        self["web-origins"].append(origins.origin("--web-origin", origin))

    def parseOptions(self, options: list[str] | None = None) -> None:
        """
        Parse C{options}; a bad one ends the command with one line naming it.

        twistd would print its whole usage text before the error; the error
        alone, on standard error, is what a user needs.
        """
        try:
            self.parse(options)
        except usage.UsageError as bad:
            raise SystemExit(f"twistd chat: error: {bad}") from None

    def parse(self, options: list[str] | None = None) -> None:
        """
        Parse C{options}.

        @raise usage.UsageError: one of them is bad; the message, one line,
            names it.
        """
        try:
            super().parseOptions(options)
        except BadValueError as bad:
            raise usage.UsageError(str(bad)) from None

    def postOptions(self) -> None:
        _checkNeeded(self)
        self["port"] = parsing.port("--port", self["port"])
        self["interface"] = _interface(self["interface"])
        self["log-level"] = _level(self["log-level"])
        self["log-format"] = _logFormat(self["log-format"])
        self["max-line"] = parsing.wholeNumber("--max-line", self["max-line"], least=1)
        self["limits"] = Limits(
            **_sendqLimits(self["sendq"], self["sendq-soft"]),
            sendqSoftSeconds=parsing.decimal(
                "--sendq-soft-seconds", self["sendq-soft-seconds"]
            ),
            floodRate=parsing.decimal("--flood-rate", self["flood-rate"]) or None,
            floodBurst=parsing.wholeNumber(
                "--flood-burst", self["flood-burst"], least=1
            ),
            maxClients=parsing.wholeNumber(
                "--max-clients", self["max-clients"], least=1
            ),
            maxPerAddress=parsing.wholeNumber("--max-per-ip", self["max-per-ip"]),
            idleTimeout=parsing.decimal("--idle-timeout", self["idle-timeout"]),
        )
        backlog = parsing.wholeNumber("--backlog", self["backlog"], least=1)
        self["history"] = parsing.wholeNumber(
            "--history", self["history"], most=MAX_HISTORY
        )
        if self["redis"] is not None:
            self["redis"] = _redis(self["redis"])
        self["room"] = "main" if self["room"] is None else _room(self["room"])
        if self["logfile"] != "-":
            parsing.writableFile("--logfile", self["logfile"])
        self["endpoints"] = self["listen"] or [
            tcpDescription(self["port"], self["interface"], backlog)
        ]
        for description in self["endpoints"]:
            _checkEndpoint("--listen", description)
        for description in self["web"]:
            _checkEndpoint("--web", description)
        if self["metrics"] is not None:
            self["metrics"] = loopbackByDefault(self["metrics"])
            _checkEndpoint("--metrics", self["metrics"])
        if self["login-timeout"] is None:
            self["login-timeout"] = LOGIN_TIMEOUT
        else:
            self["login-timeout"] = parsing.decimal(
                "--login-timeout", self["login-timeout"]
            )
        if self["auth"] is not None:
            self["commands"] = True
            self["checker"] = _checker(self["auth"])
            if not self["auth-plaintext"]:
                for description in [*self["endpoints"], *self["web"]]:
                    _checkPrivate(description)


_NEEDS = (
    ("--room", "room", "--redis", "redis"),
    ("--login-timeout", "login-timeout", "--auth", "auth"),
    ("--auth-plaintext", "auth-plaintext", "--auth", "auth"),
    ("--web-origin", "web-origins", "--web", "web"),
    ("--web-host", "web-hosts", "--web", "web"),
)
"""What an option needs: the option and its key, the other and its key."""


def _checkNeeded(options: Options) -> None:
    """
    Refuse an option given without the one it needs (an option not given
    is None, 0 or empty).
    """
    for option, key, needed, neededKey in _NEEDS:
        if options[key] and not options[neededKey]:
            raise usage.UsageError(f"{option}: has no effect without {needed}")


def _checker(path: str) -> PasswordFileChecker:
    try:
        return PasswordFileChecker(path)
    except PasswordFileError as bad:
        raise usage.UsageError(f"--auth: {bad}") from None


def _checkPrivate(description: str) -> None:
    """
    Refuse to ask for passwords in clear over a network: C{description}
    must be TLS, a UNIX socket, or TCP on a loopback address.
    """
    kind, _, keywords = parsing.endpointArguments(description)
    if kind in ("ssl", "unix"):
        return
    if kind in ("tcp", "tcp6"):
        interface = keywords.get("interface", "::" if kind == "tcp6" else "0.0.0.0")
        with suppress(ValueError):
            if ipaddress.ip_address(interface).is_loopback:
                return
    raise usage.UsageError(
        f"--auth: {description!r} would carry passwords in clear; use TLS"
        " (ssl:...), a loopback address, or --auth-plaintext"
    )


def tcpDescription(port: int, interface: str, backlog: int) -> str:
    """The endpoint description that C{--port} and C{--interface} stand for."""
    return f"tcp:{port}:interface={quoteStringArgument(interface)}:backlog={backlog}"


LOOPBACK = {"tcp": "127.0.0.1", "ssl": "127.0.0.1", "tcp6": "::1"}
"""Where a web site's endpoint of each kind binds when it names no interface."""


def loopbackByDefault(description: str) -> str:
    """
    C{description}, bound to loopback if it is TCP or TLS without an
    C{interface}: a web site, as C{--port}, serves this machine alone
    unless told otherwise.
    """
    kind, _, keywords = parsing.endpointArguments(description)
    if kind not in LOOPBACK or "interface" in keywords:
        return description
    return f"{description}:interface={quoteStringArgument(LOOPBACK[kind])}"


def _interface(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise usage.UsageError(f"--interface: {value!r} is not an IP address") from None


def _redis(value: str) -> str:
    from chat.cluster.address import RedisAddress

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


def _sendqLimits(hardText: str, softText: str | None) -> dict[str, int]:
    """
    The SendQ limits given by C{--sendq} and C{--sendq-soft}.  Without
    C{--sendq-soft}, the soft limit is its default or the hard limit,
    whichever is less: C{--sendq 1K} alone means "cut at 1K".
    """
    hard = parsing.size("--sendq", hardText)
    if softText is None:
        soft = min(Limits.sendqSoft, hard) if hard else Limits.sendqSoft
    else:
        soft = parsing.size("--sendq-soft", softText)
        if hard and soft > hard:
            raise BadValueError(
                f"--sendq-soft: {softText!r} is more than --sendq {hardText!r}"
            )
    return {"sendqHard": hard, "sendqSoft": soft}


def _logFormat(value: str) -> str:
    if value not in FORMATS:
        raise usage.UsageError(
            f"--log-format: {value!r} is not one of {', '.join(FORMATS)}"
        )
    return value


def _checkEndpoint(option: str, description: str) -> None:
    """
    Parse C{description} as twistd will, so that a typo or an unreadable
    certificate is reported now rather than as a traceback later.
    """
    from twisted.internet import reactor

    parsing.checkEndpointAddress(option, description)
    try:
        serverFromString(reactor, description)
    except Exception as failed:  # any failure to parse is the user's to fix
        raise usage.UsageError(
            f"{option}: {description!r}: {failed or type(failed).__name__}"
        ) from None
