"""
The server uses its dependencies (Twisted, twisted.web, wsproto, h11,
txredisapi, prometheus_client, ...) through their public API only: no
private name of theirs is imported, and no private attribute is read or
written but the server's own.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import chat

SOURCES = sorted(Path(chat.__file__).parent.rglob("*.py"))
"""Every module of the server and its tools."""


def private(name: str) -> bool:
    """Whether C{name} is private by Python's convention (not a dunder)."""
    return name.startswith("_") and not name.endswith("__")


Trees = list[tuple[str, ast.Module]]


def trees() -> Trees:
    """The server's modules, parsed, each with its file's name."""
    return [(path.name, ast.parse(path.read_text(), str(path))) for path in SOURCES]


def ownPrivateNames(parsed: Trees) -> set[str]:
    """
    The private names that C{parsed} defines itself: attributes it assigns,
    methods, class attributes, slots, functions and module globals.
    """
    names: set[str] = set()
    for _, tree in parsed:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)  # in __slots__, or set with setattr
    return {name for name in names if private(name)}


def test_noPrivateNameImportedFromADependency() -> None:
    """
    No module imports a private module or name of another package (Twisted's
    C{_newtls}, wsproto's C{_version}...).  The standard library's own
    C modules are Python's, not a dependency's: C{mini_serv} starts on
    C{_socket} and C{_thread} before it imports anything else.
    """
    found = []
    for name, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                parts = (node.module or "").split(".")
                names = [alias.name for alias in node.names]
                if parts[0] != "chat" and any(map(private, parts + names)):
                    if parts[0] in sys.stdlib_module_names:
                        continue
                    found.append(f"{name}:{node.lineno} {node.module} {names}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] in sys.stdlib_module_names:
                        continue
                    if any(map(private, parts)):
                        found.append(f"{name}:{node.lineno} {alias.name}")
    assert found == []


def foreignPrivates(parsed: Trees) -> list[str]:
    """
    Where C{parsed} reads or writes a private attribute (C{obj._name}, on
    C{self} too, as a subclass of a library's class might) that it does
    not define itself: a library's.
    """
    own = ownPrivateNames(parsed)
    return [
        f"{name}:{node.lineno} .{node.attr}"
        for name, tree in parsed
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and private(node.attr)
        and node.attr not in own
    ]


def test_noPrivateAttributeOfADependency() -> None:
    """
    Every private attribute the server reads or writes is one it defines
    itself somewhere: none is Twisted's, twisted.web's, wsproto's or h11's.
    """
    assert foreignPrivates(trees()) == []


def test_aLibrarysPrivateAttributeIsFound() -> None:
    """
    The scan finds what it looks for: in a subclass of a library's class,
    its own C{self._held} passes, wsproto's C{connection._proto} and
    Twisted's C{transport._tempDataBuffer} are found.
    """
    source = """
class Socket(Protocol):
    def __init__(self):
        self._held = []

    def dataReceived(self, data):
        self._held.append(data)
        if self.connection._proto:
            self.transport._tempDataBuffer.clear()
"""
    found = foreignPrivates([("socket.py", ast.parse(source))])
    assert found == ["socket.py:8 ._proto", "socket.py:9 ._tempDataBuffer"]
