"""
Helpers for the tests of the command-line tools: where their scripts are,
and a free port to start something on.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.live import DEADLINE

BIN = Path(sys.executable).parent


def script(name: str) -> str:
    """The path of the console script C{name} of this environment."""
    return str(BIN / name)


def freePort() -> int:
    """A port that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def runTool(
    name: str, *arguments: str, **options: object
) -> subprocess.CompletedProcess[str]:
    """Run the console script C{name} to completion, capturing its output."""
    return subprocess.run(
        [script(name), *arguments],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        **options,  # type: ignore[call-overload]
    )
