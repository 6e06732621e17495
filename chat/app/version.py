"""
The project's name and version, as its installed metadata gives them.
"""

from __future__ import annotations

from typing import NoReturn

DISTRIBUTION = "txchat"
"""The project's name on the package index (the import package is C{chat})."""


def version() -> str:
    """The installed version of the project, as its metadata gives it."""
    import importlib.metadata

    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


class VersionOption:
    """
    A C{--version} for a L{twisted.python.usage.Options}, in place of
    Twisted's own, which prints Twisted's version: list it first among the
    bases.
    """

    def opt_version(self) -> NoReturn:
        """
        Print the project's version and exit.
        """
        print(f"{DISTRIBUTION} {version()}")
        raise SystemExit(0)
