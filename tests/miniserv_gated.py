"""
C{mini_serv PORT}, its server held back until a file exists: run as
C{python tests/miniserv_gated.py GATE PORT}.

Until C{GATE} exists, importing the server (the handover module) waits, so
only the start-up relay serves: tests can then check what it does, and
what the handover keeps, in an order of their choosing rather than by
timing.
"""

from __future__ import annotations

import importlib
import importlib.abc
import os
import sys
import time
from typing import Any

HANDOVER = "chat.tools.miniserv.handover"


class Gate(importlib.abc.MetaPathFinder):
    def __init__(self, path: str) -> None:
        self.path = path

    def find_spec(self, name: str, *rest: Any) -> None:
        if name == HANDOVER:
            while not os.path.exists(self.path):
                time.sleep(0.002)
        return None


if __name__ == "__main__":
    gate, *arguments = sys.argv[1:]
    sys.meta_path.insert(0, Gate(gate))
    sys.argv = ["mini_serv", *arguments]
    from chat.tools.miniserv.start import main

    main()
