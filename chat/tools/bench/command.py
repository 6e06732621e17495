"""
The C{chat-bench} program.
"""

from __future__ import annotations

import json
import sys

from chat.tools.bench.coordinator import BenchError, Coordinator
from chat.tools.bench.options import PROGRAM, Options
from chat.tools.bench.report import formatReport
from chat.tools.cli import parseCommandLine


def main() -> None:
    options = parseCommandLine(Options())
    showProgress = not options["json"] and sys.stdout.isatty()
    try:
        figures = Coordinator(options, showProgress).run()
    except BenchError as failed:
        if showProgress:
            sys.stdout.write("\r\033[K")
        raise SystemExit(f"{PROGRAM}: {failed}") from None
    except KeyboardInterrupt:
        raise SystemExit(f"\n{PROGRAM}: interrupted") from None
    print(json.dumps(figures) if options["json"] else formatReport(figures))
    raise SystemExit(0 if figures["ok"] else 1)
