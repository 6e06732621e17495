"""
The values of command-line options, checked once for the server and the
tools: ports, whole numbers, sizes, seconds, addresses, endpoints.

Every helper takes the option's name and the text given, and returns the
value or raises L{BadValueError} with one line naming the option and saying what
was expected.  Only ASCII digits are digits here: C{str.isdigit()} also
accepts C{"²"}, which C{int()} then refuses.  Every number has an upper
bound, so that a huge one is refused here rather than by whatever it is
given to later (C{listen()}, a timer).

This module uses the standard library only, so that a command can check
its arguments before anything heavier is loaded.
"""

from __future__ import annotations

import os

from chat.core.values import BadValueError

MOST = (1 << 31) - 1
"""The default upper bound of a whole number: the largest C C{int}."""

MOST_SECONDS = 1e9
"""The default upper bound of a number of seconds (about 31 years)."""

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
MOST_BYTES = 1 << 40
"""The largest size: 1024G."""

MOST_DIGITS = 30
"""Longer numbers are refused before C{int()} refuses them (or takes long)."""


def _isDigits(text: str) -> bool:
    """Whether C{text} is 1 to L{MOST_DIGITS} ASCII digits."""
    return 0 < len(text) <= MOST_DIGITS and text.isascii() and text.isdigit()


def _isDecimal(text: str) -> bool:
    """Whether C{text} is ASCII digits with at most one C{.} among them."""
    whole, _, fraction = text.partition(".")
    return _isDigits(whole + fraction)


def wholeNumber(option: str, text: str, least: int = 0, most: int = MOST) -> int:
    """
    C{text} as a whole number from C{least} to C{most}.

    @raise BadValueError: it is not one.
    """
    if _isDigits(text) and least <= int(text) <= most:
        return int(text)
    raise BadValueError(
        f"{option}: {text!r} is not a whole number from {least} to {most}"
    )


def port(option: str, text: str, least: int = 0) -> int:
    """
    C{text} as a TCP port number, from C{least} (0 means any free port) to
    65535.

    @raise BadValueError: it is not one.
    """
    if _isDigits(text) and least <= int(text) <= 65535:
        return int(text)
    raise BadValueError(f"{option}: {text!r} is not a port number ({least}-65535)")


def size(option: str, text: str, most: int = MOST_BYTES) -> int:
    """
    C{text} as bytes, with an optional K, M or G (powers of 1024) after the
    number, up to C{most}.

    @raise BadValueError: it is not one.
    """
    unit = text[-1:].upper() if text[-1:].isalpha() else ""
    number = text[: len(text) - len(unit)]
    if unit in _UNITS and _isDigits(number) and int(number) * _UNITS[unit] <= most:
        return int(number) * _UNITS[unit]
    raise BadValueError(
        f"{option}: {text!r} is not a size up to {most >> 30}G (e.g. 65536, 64K, 32M)"
    )


def decimal(
    option: str, text: str, least: float = 0.0, most: float = MOST_SECONDS
) -> float:
    """
    C{text} as a decimal number (C{2}, C{0.5}, C{.25}) from C{least} to
    C{most}: seconds, a rate.

    @raise BadValueError: it is not one.
    """
    if _isDecimal(text) and least <= float(text) <= most:
        return float(text)
    raise BadValueError(
        f"{option}: {text!r} is not a number from {least:g} to {most:g}"
    )


def hostAndPort(option: str, text: str) -> tuple[str, int]:
    """
    C{text} as C{HOST:PORT} (an IPv6 address may be in brackets), the port
    from 1 to 65535.

    @raise BadValueError: it is not.
    """
    host, _, number = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if host and _isDigits(number) and 0 < int(number) <= 65535:
        return host, int(number)
    raise BadValueError(f"{option}: {text!r} is not HOST:PORT (port 1-65535)")


def writableFile(option: str, path: str) -> str:
    """
    C{path} if a file can be written there, without creating it: it is a
    writable file, or its directory exists and is writable.

    @raise BadValueError: it cannot be.
    """
    directory = os.path.dirname(path) or "."
    if os.path.isdir(path):
        reason = "it is a directory"
    elif os.path.exists(path):
        reason = "" if os.access(path, os.W_OK) else "permission denied"
    elif not os.path.isdir(directory):
        reason = f"no directory {directory!r}"
    else:
        reason = "" if os.access(directory, os.W_OK) else "permission denied"
    if reason:
        raise BadValueError(f"{option}: cannot write {path!r}: {reason}")
    return path


def endpointArguments(description: str) -> tuple[str, list[str], dict[str, str]]:
    """
    Split a Twisted endpoint description into its kind, positional and
    keyword arguments, undoing backslash escapes as Twisted does:
    C{"tcp:80:interface=\\:\\:1"} is C{("tcp", ["80"], {"interface": "::1"})}.
    """
    fields: list[str] = [""]
    escaped = False
    for character in description:
        if escaped:
            fields[-1] += character
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == ":":
            fields.append("")
        else:
            fields[-1] += character
    kind, *rest = fields
    positional = [field for field in rest if "=" not in field]
    keywords = dict(field.split("=", 1) for field in rest if "=" in field)
    return kind.lower(), positional, keywords


def checkEndpointAddress(option: str, description: str) -> None:
    """
    Check the address of a C{tcp}, C{ssl} or C{unix} endpoint description
    before anything listens: a port out of range, an empty socket path, a
    socket path in a missing directory.  Other kinds are left to Twisted's
    own parser.

    @raise BadValueError: the address cannot be listened on.
    """
    kind, positional, keywords = endpointArguments(description)
    first = positional[0] if positional else None
    if kind in ("tcp", "tcp6", "ssl"):
        port(f"{option}: {description!r}: port", keywords.get("port", first or ""))
    elif kind == "unix":
        path = keywords.get("address", first or "")
        directory = os.path.dirname(path) or "."
        if not path:
            raise BadValueError(f"{option}: {description!r}: no socket path")
        if not os.path.isdir(directory):
            raise BadValueError(
                f"{option}: {description!r}: no directory {directory!r} for the socket"
            )
