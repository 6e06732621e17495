"""
What the command-line tools have in common: the first line of their help,
their C{--version}, and how a bad command line ends.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from twisted.python import usage

from chat.app.version import VersionOption
from chat.core.values import BadValueError


class ToolOptions(VersionOption, usage.Options):
    """
    The options of one of the tools: C{--help} starts with
    C{Usage: PROGRAM [options] ARGUMENTS}, C{--version} prints the
    project's version.
    """

    program: ClassVar[str]
    """The tool's name, as it is typed."""

    arguments: ClassVar[str] = ""
    """What comes after the options (C{"HOST PORT"}), if anything."""

    def getSynopsis(self) -> str:
        return f"Usage: {self.program} [options] {self.arguments}".rstrip()


OptionsType = TypeVar("OptionsType", bound=ToolOptions)


def parseCommandLine(options: OptionsType) -> OptionsType:
    """
    Parse the command line into C{options}; a bad one ends the program with
    one line naming it, and status 1.
    """
    try:
        options.parseOptions()
    except (usage.UsageError, BadValueError) as bad:
        raise SystemExit(f"{options.program}: {bad}") from None
    return options
