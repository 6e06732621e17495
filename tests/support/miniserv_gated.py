"""
C{mini_serv PORT}, its server held back until a file exists: run as
C{python tests/miniserv_gated.py GATE PORT}.

Until C{GATE} exists, importing the server (the handover module) waits, so
only the start-up relay serves: tests can then check what it does, and
what the handover keeps, in an order of their choosing rather than by
timing.  With C{GATED} in the environment, importing that module waits
instead (C{GATED=chat}: the whole package).

With C{HOLD} in the environment, the handover waits too, once the start-up
relay has stopped and before the server takes its clients: C{HOLD.stopped}
is made then, and it goes on when C{HOLD} exists.
"""

from __future__ import annotations

import importlib
import importlib.abc
import os
import runpy
import sys
import time
from pathlib import Path
from typing import Any

HANDOVER = "chat.tools.miniserv.handover"
HOLD = "HOLD"
GATED = "GATED"


class Gate(importlib.abc.MetaPathFinder):
    def __init__(self, path: str, module: str) -> None:
        self.path = path
        self.module = module

    def find_spec(self, name: str, *rest: Any) -> None:
        if name == self.module:
            while not os.path.exists(self.path):
                time.sleep(0.002)
        return None


def holdAfterStop(path: str) -> None:
    """Have the start-up relay wait for C{path} once it has stopped."""
    from chat.tools.miniserv import relay

    class HeldRelay(relay.StartupRelay):
        def stop(self) -> None:
            super().stop()
            open(path + ".stopped", "w").close()
            while not os.path.exists(path):
                time.sleep(0.002)

    relay.StartupRelay = HeldRelay  # type: ignore[misc]


if __name__ == "__main__":
    gate, *arguments = sys.argv[1:]
    sys.meta_path.insert(0, Gate(gate, os.environ.get(GATED, HANDOVER)))
    if HOLD in os.environ:
        holdAfterStop(os.environ[HOLD])
    sys.argv = ["mini_serv", *arguments]
    runpy.run_path(
        str(Path(sys.executable).with_name("mini_serv")), run_name="__main__"
    )
