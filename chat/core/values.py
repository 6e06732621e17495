"""
Values given to the server from outside (options, names of hosts and
origins), checked where they are read.

This module uses the standard library only, so that a command can check
its arguments before anything heavier is loaded.
"""

from __future__ import annotations


class BadValueError(ValueError):
    """
    An option's value is not what it should be; the message, one line,
    names the option.
    """
