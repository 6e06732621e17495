"""
What the command-line tools have in common: how a bad command line ends.
"""

from __future__ import annotations

from typing import TypeVar

from twisted.python import usage

from chat.parsing import BadValueError

OptionsType = TypeVar("OptionsType", bound=usage.Options)


def parseCommandLine(options: OptionsType, program: str) -> OptionsType:
    """
    Parse the command line into C{options}; a bad one ends the program with
    one line naming C{program}, and status 1.
    """
    try:
        options.parseOptions()
    except (usage.UsageError, BadValueError) as bad:
        raise SystemExit(f"{program}: {bad}") from None
    return options
