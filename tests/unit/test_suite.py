"""
The test suite itself: every test says, in its docstring, what it proves.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent.parent


def undocumented(source: str) -> list[str]:
    """
    The tests (functions and methods named C{test...}) in C{source} that
    have no docstring.
    """
    return [
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test")
        and not ast.get_docstring(node)
    ]


def test_everyTestHasADocstring() -> None:
    """No test module under C{tests/} has a test without a docstring."""
    missing = [
        f"{path.relative_to(TESTS)}::{name}"
        for path in sorted(TESTS.rglob("test_*.py"))
        for name in undocumented(path.read_text())
    ]
    assert missing == []


def test_undocumentedTestFound() -> None:
    """The check finds a test without a docstring, a method too, and only those."""
    source = '''
def test_bare():
    pass

def test_told():
    """It is told."""

def helper():
    pass

class Tests:
    def test_method(self):
        return 1
'''
    assert undocumented(source) == ["test_bare", "test_method"]
