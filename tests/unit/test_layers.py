"""
The layers of the server: the message core imports no door and no feature.

The core (C{chat.core}: the room, admission, the lobby, departures, the
broadcast, the SendQ, the limits) works the same for every door and without
chat options; the doors (C{chat.tcp}, C{chat.web}), chat mode
(C{chat.people}), the cluster (C{chat.cluster}) and the application that
puts them together (C{chat.app}) build on it, never the other way round.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import chat

ROOT = Path(chat.__file__).parent

ABOVE_THE_CORE = {"chat.tcp", "chat.people", "chat.web", "chat.cluster", "chat.app"}
"""The packages that build on the core."""

LONGEST_CLASS = 250
"""Lines a class may take at the most."""


def modules(package: str) -> list[str]:
    """The modules of C{chat.package}, by name."""
    folder = ROOT / package
    return sorted(
        "chat." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in folder.rglob("*.py")
    )


def parsed(module: str) -> ast.Module:
    parts = module.split(".")[1:]
    path = ROOT.joinpath(*parts).with_suffix(".py")
    return ast.parse(path.read_text(), str(path))


def imported(module: str) -> set[str]:
    """
    The modules that C{module} imports, anywhere in it: at its top, in a
    function, for type checking alone (C{chat.core} for C{from chat import
    core}).
    """
    names: set[str] = set()
    for node in ast.walk(parsed(module)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{module}: a relative import")
            base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def within(names: set[str], packages: set[str]) -> set[str]:
    """The C{names} that are C{packages} or modules of theirs."""
    return {
        name
        for name in names
        if any(
            name == package or name.startswith(package + ".") for package in packages
        )
    }


@pytest.mark.parametrize("module", modules("core"))
def test_coreImportsNothingAbove(module: str) -> None:
    """
    A module of the core imports nothing of the doors, chat mode, the
    cluster or the application: the room knows its clients as L{IClient}
    and its stages as L{IStage} only.
    """
    assert within(imported(module), ABOVE_THE_CORE) == set()


@pytest.mark.parametrize(
    "module",
    [*modules("tcp"), *modules("people"), *modules("web"), *modules("cluster")],
)
def test_partsImportNoApplication(module: str) -> None:
    """The doors, chat mode and the cluster import nothing of the application."""
    assert within(imported(module), {"chat.app"}) == set()


def test_importsAreSeen() -> None:
    """
    The parse sees every form of import: the room's of the batch (C{from
    chat.core.batch import}) and of the wire format (C{from chat.core
    import wire}), the lobby's of the room (for type checking alone), the
    wiring's of the TCP door and of chat mode.
    """
    assert {"chat.core.batch", "chat.core.wire"} <= imported("chat.core.room")
    assert "chat.core.room" in imported("chat.core.lobby")
    assert within(imported("chat.app.tap"), ABOVE_THE_CORE) >= {
        "chat.tcp.door",
        "chat.people.commands",
    }
    assert within({"chat.tcp.door"}, {"chat.tcp"}) == {"chat.tcp.door"}
    assert within({"chat.tcpx"}, {"chat.tcp"}) == set()


def test_noLongClass() -> None:
    """No class of the server takes more than L{LONGEST_CLASS} lines."""
    longest = {}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                longest[f"{path.relative_to(ROOT)}:{node.name}"] = (
                    node.end_lineno - node.lineno + 1
                )
    assert "core/room.py:ChatRoom" in longest
    assert {name: n for name, n in longest.items() if n > LONGEST_CLASS} == {}
