"""
The operator's files in contrib/: where they are and what they set.
"""

from __future__ import annotations

import re

from tests.support.paths import ROOT

CONTRIB = ROOT / "contrib"
"""The operator's files: systemd units, logrotate."""


def setting(unit: str, name: str) -> str:
    """The value C{unit} (a file of L{CONTRIB}) gives its setting C{name}."""
    text = (CONTRIB / unit).read_text()
    [value] = re.findall(rf"^{name}=(.*)$", text, re.MULTILINE)
    return value
