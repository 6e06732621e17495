"""
The systemd units of C{contrib/} agree with each other.
"""

from __future__ import annotations

import shlex

from tests.support.contrib import setting


def test_unitsAgree() -> None:
    """
    The service needs the socket and listens on the socket's first
    descriptor, and the socket listens on loopback port 8080.
    """
    assert setting("chat.service", "Requires") == "chat.socket"
    command = shlex.split(setting("chat.service", "ExecStart"))
    assert command[command.index("--listen") + 1] == "systemd:domain=INET:index=0"
    assert setting("chat.socket", "ListenStream") == "127.0.0.1:8080"
