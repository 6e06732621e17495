"""
C{python -m chat ARGUMENTS} is C{twistd -n chat ARGUMENTS}: the server in
the foreground, with the same options.
"""

from __future__ import annotations

import sys

from twisted.scripts.twistd import run


def main() -> None:
    sys.argv[1:] = ["-n", "chat", *sys.argv[1:]]
    run()


if __name__ == "__main__":
    main()
