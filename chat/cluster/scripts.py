"""
The Lua scripts of the cluster, which Redis runs atomically: everything that
must not be torn apart (numbering a client and announcing it, appending an
entry, burying a node) is one of them.

They are files of this package, C{lua/*.lua}; each is run with
C{lua/stream.lua} before it, which appends to the stream within its bounds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources


def _source(name: str) -> bytes:
    return resources.files(__package__).joinpath("lua", f"{name}.lua").read_bytes()


@dataclass(frozen=True)
class Script:
    """A Lua script, run by its SHA-1 once loaded on a connection."""

    name: str
    source: bytes = field(repr=False)

    @property
    def sha(self) -> bytes:
        return hashlib.sha1(self.source).hexdigest().encode()

    @classmethod
    def load(cls, name: str) -> Script:
        """The script C{lua/NAME.lua}, after the shared C{lua/stream.lua}."""
        return cls(name, _source("stream") + b"\n" + _source(name))


JOIN = Script.load("join")
APPEND = Script.load("append")
REJOIN = Script.load("rejoin")
HEARTBEAT = Script.load("heartbeat")
RETIRE = Script.load("retire")
CLAIM = Script.load("claim")
WHO = Script.load("who")
TELL = Script.load("tell")
FIND = Script.load("find")

SCRIPTS = (JOIN, APPEND, REJOIN, HEARTBEAT, RETIRE, CLAIM, WHO, TELL, FIND)
