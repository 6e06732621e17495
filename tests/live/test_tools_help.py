"""
Every tool's C{--help} starts with the line that says how it is typed,
naming the program.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.live import DEADLINE
from tests.support.tools import script


@pytest.mark.live
@pytest.mark.parametrize(
    "usage",
    [
        "Usage: chat-passwd [options] FILE NAME",
        "Usage: chat-client [options] HOST PORT",
        "Usage: chat-tester [options]",
        "Usage: chat-bench [options]",
        "Usage: mini_serv PORT",
    ],
    ids=lambda usage: usage.split()[1],
)
def test_helpNamesTheProgram(tmp_path: Path, usage: str) -> None:
    """
    C{PROGRAM --help} prints its usage line first, exits 0, writes nothing
    on standard error and creates no file.
    """
    done = subprocess.run(
        [script(usage.split()[1]), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[0] == usage
    assert list(tmp_path.iterdir()) == []
