"""
Where the Redis server of a cluster is: C{redis://HOST:PORT/DB}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 6379


@dataclass(frozen=True)
class RedisAddress:
    """Where the Redis server is, from C{redis://HOST:PORT/DB}."""

    host: str
    port: int
    db: int

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        """
        @raise ValueError: with the reason, when C{url} is not a Redis URL.
        """
        parts = urlsplit(url)
        if parts.scheme != "redis" or not parts.hostname:
            raise ValueError("not a redis://HOST:PORT/DB URL")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("only redis://HOST:PORT/DB is supported")
        database = parts.path.lstrip("/") or "0"
        if not re.fullmatch("[0-9]{1,9}", database):
            raise ValueError(f"database {database!r} is not a number")
        return cls(parts.hostname, _port(parts.netloc), int(database))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{host}:{self.port}/{self.db}"


def _port(netloc: str) -> int:
    """The port in C{netloc}, L{DEFAULT_PORT} when it names none."""
    match = re.search(r":([^:\]]*)$", netloc)
    if match is None or not match.group(1):
        return DEFAULT_PORT
    port = match.group(1)
    if not re.fullmatch("[0-9]{1,5}", port) or not 0 < int(port) < 65536:
        raise ValueError(f"port {port!r} is not a port number (1-65535)")
    return int(port)
